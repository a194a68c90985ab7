export * from './env';
export * from './settings';
export * from './redis';
export * from './access';
