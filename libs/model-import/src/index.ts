export * from './errors';
export * from './split';
export * from './verify';
export * from './import';
