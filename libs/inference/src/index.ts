export * from './exit-rule';
export * from './execution-provider';
export * from './fused-graph';
export * from './multi-exit-model';
export * from './model-thread';
export * from './trunk-executor';
