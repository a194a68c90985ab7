import { BeforeApplicationShutdown, DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import { Queue, Worker } from 'bullmq';
import { EventEmitter, once } from 'node:events';
import Redis from 'ioredis';
import { RedisTarget, createRedisClient, redisAddress } from './redis-target';
import { RedisConnectionWatch, reportErrorsBesidesOutages } from './redis-watch';

export const REDIS = Symbol('REDIS');
/** The process's one Redis connection; subscribers are made from it with duplicate(). */
export const InjectRedis = () => Inject(REDIS);

/** A Redis connection fit for BullMQ workers too (they need maxRetriesPerRequest null): one server, a Sentinel primary or a cluster. */
function connectRedis(target: RedisTarget): Redis {
  return createRedisClient(target, { maxRetriesPerRequest: null });
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@InjectRedis() private readonly redis: Redis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => undefined);
  }
}

/** How long a stopping worker waits for a blocking connection still reconnecting after an outage. */
const RECONNECT_BEFORE_CLOSE_MS = 5_000;

/**
 * The app's BullMQ Queues and Workers through a Redis outage:
 * - each gets an 'error' listener once they all exist: each one re-emits its connections' errors,
 *   and an emitter without a listener prints a stack on every reconnection attempt;
 * - a worker told to stop while its blocking connection is still reconnecting would never finish
 *   closing: BullMQ waits for that connection's 'end', and ioredis never ends a connection that is
 *   disconnected mid-reconnect. So shutdown first lets such connections come back, for at most
 *   RECONNECT_BEFORE_CLOSE_MS (if Redis is still away, the close waits as before, until the supervisor's kill).
 */
@Injectable()
class BullThroughOutages implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly workers: Worker[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap() {
    for (const { instance } of this.discovery.getProviders()) {
      if (instance instanceof Queue) reportErrorsBesidesOutages(instance, `queue ${instance.name}`);
      else if (instance instanceof WorkerHost) {
        reportErrorsBesidesOutages(instance.worker, `worker of ${instance.worker.name}`);
        this.workers.push(instance.worker);
      }
    }
  }

  async beforeApplicationShutdown() {
    await Promise.all(
      this.workers.map(async (worker) => {
        const blocking = await (worker.getBackend() as { blockingClient?: Promise<EventEmitter & { status: string }> }).blockingClient;
        if (blocking?.status !== 'reconnecting') return;
        await once(blocking, 'ready', { signal: AbortSignal.timeout(RECONNECT_BEFORE_CLOSE_MS) }).catch(() => undefined);
      }),
    );
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
  static forRoot(redisUrl: RedisTarget, whileAway: string): DynamicModule {
    return {
      module: RedisModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: REDIS, useFactory: () => connectRedis(redisUrl) },
        { provide: RedisConnectionWatch, useFactory: (redis: Redis) => new RedisConnectionWatch(redis, redisAddress(redisUrl), whileAway), inject: [REDIS] },
        RedisCloser,
        BullThroughOutages,
      ],
      exports: [REDIS, RedisConnectionWatch],
    };
  }
}
