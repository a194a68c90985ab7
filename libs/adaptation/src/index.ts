export * from './wilson';
export * from './tuner';
export * from './agreement';
