import { Inject, OnApplicationShutdown, Provider } from '@nestjs/common';
import Redis from 'ioredis';

export const REDIS = Symbol('REDIS');
export const InjectRedis = () => Inject(REDIS);

/** One plain ioredis connection for the gateway's own reads (node registry, health). */
export function redisProvider(redisUrl: string): Provider {
  return {
    provide: REDIS,
    useFactory: () => new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false }),
  };
}

export class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => undefined);
  }
}
