import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { TrunkSettings, subjobLockOptions } from '@outlet/config';
import { branchQueueName } from '@outlet/contracts';
import { InjectRedis } from '@outlet/transport';
import { TRUNK_SETTINGS } from './tokens';

/**
 * BullMQ's stalled-job check for this node's branch queue, run by the trunk. The check only runs
 * inside a Worker of a queue: without it, the subjobs of a branch worker that died would stay
 * "active" until a branch worker of the node starts again. This Worker takes no job (no processor,
 * never run); with maxStalledCount 0 a subjob whose lock lapsed fails within about
 * OUTLET_LOCK_MS × 1.5 of its worker's death, and its task is answered by the trunk's final exit.
 */
@Injectable()
export class BranchStallCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BranchStallCheck.name);
  private checker?: Worker;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap() {
    this.checker = new Worker(branchQueueName(this.settings.nodeId), undefined, { connection: this.redis, autorun: false, ...subjobLockOptions(this.settings.lockMs) });
    this.checker.on('error', (err) => this.logger.warn(`stalled check of the branch queue: ${err.message}`));
    this.checker.on('stalled', (id) => this.logger.warn(`subjob ${id} of a dead branch worker failed (its task is answered by the trunk)`));
    await this.checker.startStalledCheckTimer();
  }

  async onApplicationShutdown() {
    await this.checker?.close().catch(() => undefined);
  }
}
