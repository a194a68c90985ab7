export * from './free-port';
export * from './managed-process';
export * from './redis-server';
export * from './system';
export * from './redis-cluster';
export * from './redis-sentinel';
