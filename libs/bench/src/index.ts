export * from './harness';
export * from './report';
export * from './request-set';
export * from './stats';
