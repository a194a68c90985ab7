import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { RedisConnectionWatch, redisAddress, reportErrorsBesidesOutages } from './redis-watch';

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
 * Every BullMQ Queue and Worker of the app gets an 'error' listener once they all exist: each one
 * re-emits its connections' errors, and an emitter without a listener prints a stack on every
 * reconnection attempt while Redis is away.
 */
@Injectable()
class BullErrorListeners implements OnApplicationBootstrap {
  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap() {
    for (const { instance } of this.discovery.getProviders()) {
      if (instance instanceof Queue) reportErrorsBesidesOutages(instance, `queue ${instance.name}`);
      else if (instance instanceof WorkerHost) reportErrorsBesidesOutages(instance.worker, `worker of ${instance.worker.name}`);
    }
  }
}

/**
 * One Redis connection per process, for its own commands and for BullMQ (which duplicates it for
 * its blocking connections), closed after everything else on shutdown. Its RedisConnectionWatch
 * logs one line when Redis is lost and one when it is back; `whileAway` says what the process does
 * meanwhile.
 */
@Global()
@Module({})
export class RedisModule {
  static forRoot(redisUrl: string, whileAway: string): DynamicModule {
    return {
      module: RedisModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: REDIS, useFactory: () => connectRedis(redisUrl) },
        { provide: RedisConnectionWatch, useFactory: (redis: Redis) => new RedisConnectionWatch(redis, redisAddress(redisUrl), whileAway), inject: [REDIS] },
        RedisCloser,
        BullErrorListeners,
      ],
      exports: [REDIS, RedisConnectionWatch],
    };
  }
}
