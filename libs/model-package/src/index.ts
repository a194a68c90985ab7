export * from './manifest';
export * from './model-package';
export * from './plan-table';
export * from './compact-json';
export * from './models-home';
