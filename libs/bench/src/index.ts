export * from './harness';
export * from './report';
export * from './mnist';
export * from './request-set';
export * from './stats';
export * from './answer-check';
export * from './task-load';
export * from './chaos';
