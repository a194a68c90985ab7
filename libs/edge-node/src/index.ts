export * from './cpu-monitor';
export * from './graceful-shutdown';
export * from './process-logger';
export * from './hardware-fingerprint';
export * from './job-payload';
