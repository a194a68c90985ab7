import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { WorkerHost } from '@nestjs/bullmq';
import Redis from 'ioredis';
import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { GONE_NODE_KEPT_MS, LeftBecause, NODES_KEY, NodeStatus, nodeDrainKey, nodeStatusKey } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ModelThread } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { InjectRedis } from '@outlet/transport';
import { InFlightTasks } from './in-flight-tasks';
import { PlanSelector } from './plan-selector.service';
import { NodeProfiles } from './node-profiles.service';
import { INFER_PROCESSORS, TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/**
 * Tells the fleet this node is alive, which models it serves, how loaded its CPU is, how
 * responsive its trunk is and how many tasks it holds; and carries out a drain order, read on the
 * same tick: stop taking tasks, finish those in flight (shown `draining` meanwhile), then leave.
 * Its status outlives the node by GONE_NODE_KEPT_MS, so a node that left or went silent is still
 * listed (as gone) for a while.
 */
@Injectable()
export class NodeHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeHeartbeat.name);
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private timer?: NodeJS.Timeout;
  private draining = false;
  private leftBecause: LeftBecause = 'stopped';
  private markDrained!: () => void;
  /** Settles once a drain order is carried out (no task in flight, none taken any more): time to leave. */
  readonly drained = new Promise<void>((resolve) => (this.markDrained = resolve));

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    @Inject(INFER_PROCESSORS) private readonly processors: WorkerHost[],
    @InjectRedis() private readonly redis: Redis,
    private readonly plans: PlanSelector,
    private readonly profiles: NodeProfiles,
    private readonly inFlight: InFlightTasks,
  ) {}

  async onApplicationBootstrap() {
    this.loopDelay.enable();
    // A drain order left from an earlier run of this node (killed while draining) is void: a start is a fresh start.
    await this.redis.del(nodeDrainKey(this.settings.nodeId));
    await this.beat();
    this.timer = setInterval(() => this.beat().catch((err) => this.logger.warn(`heartbeat failed: ${err.message}`)), this.settings.heartbeatMs);
  }

  private status(): NodeStatus {
    return {
      nodeId: this.settings.nodeId,
      models: [...this.packages.keys()],
      trunkEp: this.engine.ep,
      trunkThreads: this.settings.threads,
      hardware: this.plans.fingerprint,
      profiles: this.profiles.status(),
      cpuUtil: this.plans.cpuUtilization(),
      eventLoopDelayMaxMs: this.loopDelay.max / 1e6,
      tasksInFlight: this.inFlight.size,
      ...(this.draining ? { draining: true } : {}),
      pid: process.pid,
      heartbeatAt: Date.now(),
      heartbeatMs: this.settings.heartbeatMs,
    };
  }

  private async beat() {
    const status = this.status();
    this.loopDelay.reset();
    const replies = await this.redis
      .multi()
      .set(nodeStatusKey(status.nodeId), JSON.stringify(status), 'PX', GONE_NODE_KEPT_MS)
      .zadd(NODES_KEY, status.heartbeatAt, status.nodeId)
      // Forget nodes that have not been heard of for as long as a gone node is listed.
      .zremrangebyscore(NODES_KEY, 0, status.heartbeatAt - GONE_NODE_KEPT_MS)
      .exists(nodeDrainKey(status.nodeId))
      .exec();
    if (replies?.[3]?.[1] === 1 && !this.draining) void this.drain();
  }

  private async drain() {
    this.draining = true;
    this.leftBecause = 'drained';
    this.logger.log(`drain ordered: taking no new tasks; leaving once its ${this.inFlight.size} task(s) in flight are done`);
    // Shown draining at once, not at the next tick.
    await this.beat().catch(() => undefined);
    await this.stopTakingTasks().catch((err) => this.logger.warn(`closing the workers: ${err.message}`));
    this.logger.log('drained: no task in flight; leaving');
    this.markDrained();
  }

  /** BullMQ's Worker.close() takes no new job and waits for the jobs in flight. */
  private async stopTakingTasks(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.worker.close()));
  }

  async onApplicationShutdown() {
    // A stop (SIGTERM) is shown like a drain while its tasks finish; then the last status says it left.
    this.draining = true;
    await this.stopTakingTasks().catch((err) => this.logger.warn(`closing the workers: ${err.message}`));
    if (this.timer) clearInterval(this.timer);
    this.loopDelay.disable();
    const last: NodeStatus = { ...this.status(), draining: undefined, leftAt: Date.now(), leftBecause: this.leftBecause };
    await this.redis
      .multi()
      .set(nodeStatusKey(last.nodeId), JSON.stringify(last), 'PX', GONE_NODE_KEPT_MS)
      .zadd(NODES_KEY, last.heartbeatAt, last.nodeId)
      .del(nodeDrainKey(last.nodeId))
      .exec()
      .catch(() => undefined);
  }
}
