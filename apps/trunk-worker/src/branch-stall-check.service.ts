import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { TrunkSettings, subjobLockOptions } from '@outlet/config';
import { branchQueueName, queuePrefix } from '@outlet/contracts';
import { InjectRedis, reportErrorsBesidesOutages } from '@outlet/transport';
import { BRANCH_QUEUE } from './trunk-transport.service';
import { TRUNK_SETTINGS } from './tokens';

/**
 * BullMQ's stalled-job check for this node's branch queue, run by the trunk. The check only runs
 * inside a Worker of a queue: without it, the subjobs of a branch worker that died would stay
 * "active" until a branch worker of the node starts again. This Worker takes no job (no processor,
 * never run). A subjob whose lock lapsed (its worker died) is found within about OUTLET_LOCK_MS ×
 * 1.5; with maxStalledCount 0, BullMQ 6 puts it back in "waiting" marked to fail when a worker
 * next takes it, so the trunk drops it at once: no branch worker may be alive to take it, and its
 * task is answered by the trunk's final exit anyway. A live branch worker that took it first
 * fails it instead (the job is locked then and not removed).
 */
@Injectable()
export class BranchStallCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BranchStallCheck.name);
  private checker?: Worker;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(BRANCH_QUEUE) private readonly branchQueue: Queue,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap() {
    this.checker = new Worker(branchQueueName(this.settings.nodeId), undefined, { connection: this.redis, prefix: queuePrefix(branchQueueName(this.settings.nodeId)), autorun: false, ...subjobLockOptions(this.settings.lockMs) });
    // While Redis is away the process's one lost/back line says so; other errors are a line each.
    reportErrorsBesidesOutages(this.checker, 'stalled check of the branch queue', this.logger);
    this.checker.on('stalled', (id) => void this.drop(id));
    await this.checker.startStalledCheckTimer();
  }

  private async drop(id: string) {
    const removed = await this.branchQueue.remove(id).catch(() => 0);
    this.logger.warn(`subjob ${id} stalled (its branch worker died): ${removed ? 'dropped' : 'failed by a live branch worker'}; its task is answered by the trunk`);
  }

  async onApplicationShutdown() {
    await this.checker?.close().catch(() => undefined);
  }
}
