import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

export const REDIS = Symbol('REDIS');
/** The process's one Redis connection; subscribers are made from it with duplicate(). */
export const InjectRedis = () => Inject(REDIS);

/** A Redis connection fit for BullMQ workers too (they need maxRetriesPerRequest null). */
function connectRedis(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@InjectRedis() private readonly redis: Redis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => undefined);
  }
}

/**
 * One Redis connection per process, for its own commands and for BullMQ (which duplicates it for
 * its blocking connections), closed after everything else on shutdown.
 */
@Global()
@Module({})
export class RedisModule {
  static forRoot(redisUrl: string): DynamicModule {
    return {
      module: RedisModule,
      providers: [{ provide: REDIS, useFactory: () => connectRedis(redisUrl) }, RedisCloser],
      exports: [REDIS],
    };
  }
}
