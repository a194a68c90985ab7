import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import Redis from 'ioredis';
import { Queue } from 'bullmq';
import { BranchWorkerBeat, branchWorkersKey, nodeStatusKey, parseNodeStatus } from '@outlet/contracts';
import { BranchSettings } from '@outlet/config';
import { InjectRedis } from '@outlet/transport';
import { BRANCH_QUEUE, BRANCH_SETTINGS } from './tokens';
import { HeadTimes } from './head-times';

/** How long a leaving branch worker waits for its queue's waiting subjobs to run (each ends 'dropped' at once: its task is answered). */
const LEAVE_WAIT_MS = 30_000;

/**
 * Tells the node's trunk (and the fleet view) this worker is alive, with its thread budget; and
 * follows its node out: once the node's trunk has left after a drain, this worker runs the
 * subjobs still queued, then leaves too (`drained` settles; main.ts closes the app, which waits
 * for the subjobs in flight).
 */
@Injectable()
export class BranchHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BranchHeartbeat.name);
  private readonly me = `${hostname()}:${process.pid}`;
  private readonly startedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private draining = false;
  private markDrained!: () => void;
  readonly drained = new Promise<void>((resolve) => (this.markDrained = resolve));

  constructor(
    @Inject(BRANCH_SETTINGS) private readonly settings: BranchSettings,
    @Inject(BRANCH_QUEUE) private readonly queue: Queue,
    @InjectRedis() private readonly redis: Redis,
    private readonly headTimes: HeadTimes,
  ) {}

  async onApplicationBootstrap() {
    await this.beat().catch(() => undefined);
    this.timer = setInterval(() => this.beat().catch((err) => this.logger.warn(`heartbeat failed: ${err.message}`)), this.settings.heartbeatMs).unref();
  }

  private async beat() {
    const headMs = this.headTimes.take();
    const beat: BranchWorkerBeat = { at: Date.now(), threads: this.settings.threads, heartbeatMs: this.settings.heartbeatMs, ...(headMs && { headMs }), ...(this.draining ? { draining: true } : {}) };
    const replies = await this.redis.multi().hset(branchWorkersKey(this.settings.nodeId), this.me, JSON.stringify(beat)).get(nodeStatusKey(this.settings.nodeId)).exec();
    const text = replies?.[1]?.[1];
    const node = parseNodeStatus(typeof text === 'string' ? text : undefined);
    // Only a drain after this worker started counts: a node restarted after a drain comes back whole.
    if (!this.draining && node?.leftBecause === 'drained' && (node.leftAt ?? 0) >= this.startedAt) void this.leave();
  }

  private async leave() {
    this.draining = true;
    this.logger.log('the node was drained and its trunk has left: running the subjobs still queued, then leaving');
    await this.beat().catch(() => undefined);
    const deadline = Date.now() + LEAVE_WAIT_MS;
    while ((await this.queue.getWaitingCount().catch(() => 0)) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.markDrained();
  }

  async onApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
    await this.redis.hdel(branchWorkersKey(this.settings.nodeId), this.me).catch(() => undefined);
  }
}
