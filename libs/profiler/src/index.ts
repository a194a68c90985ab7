export * from './interpolate';
export * from './load-generator';
export * from './machine';
export * from './measure';
export * from './profile';
export * from './stats';
export * from './stored-profile';
