export * from './cpu-monitor';
