export * from './cpu-monitor';
export * from './graceful-shutdown';
