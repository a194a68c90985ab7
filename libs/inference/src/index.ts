export * from './exit-rule';
export * from './execution-provider';
export * from './multi-exit-model';
export * from './trunk-executor';
export * from './fused-graph';
