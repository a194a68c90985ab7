export * from './queues';
export * from './plan';
export * from './jobs';
export * from './tensor-encoding';
export * from './time';
export * from './node-status';
export * from './answer';
export * from './echo';
