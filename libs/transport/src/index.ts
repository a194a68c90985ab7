export * from './redis.module';
export * from './answer-slot';
export * from './feature-files';
export * from './stats-counters';
export * from './redis-watch';
export * from './threshold-store';
export * from './redis-target';
