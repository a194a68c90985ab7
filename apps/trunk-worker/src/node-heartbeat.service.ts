import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_MS, NODES_KEY, NodeStatus, nodeStatusKey } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ModelThread } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { InjectRedis } from '@outlet/transport';
import { PlanSelector } from './plan-selector.service';
import { TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** Tells the fleet this node is alive, which models it serves, how loaded its CPU is and how responsive its trunk is. */
@Injectable()
export class NodeHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeHeartbeat.name);
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    @InjectRedis() private readonly redis: Redis,
    private readonly plans: PlanSelector,
  ) {}

  async onApplicationBootstrap() {
    this.loopDelay.enable();
    await this.beat();
    this.timer = setInterval(() => this.beat().catch((err) => this.logger.warn(`heartbeat failed: ${err.message}`)), HEARTBEAT_INTERVAL_MS);
  }

  private async beat() {
    const status: NodeStatus = {
      nodeId: this.settings.nodeId,
      models: [...this.packages.keys()],
      trunkEp: this.engine.ep,
      cpuUtil: this.plans.cpuUtilization(),
      eventLoopDelayMaxMs: this.loopDelay.max / 1e6,
      pid: process.pid,
      heartbeatAt: Date.now(),
    };
    this.loopDelay.reset();
    await this.redis
      .multi()
      .set(nodeStatusKey(status.nodeId), JSON.stringify(status), 'PX', HEARTBEAT_TTL_MS)
      .zadd(NODES_KEY, status.heartbeatAt, status.nodeId)
      // Forget nodes silent for longer than a heartbeat's lifetime.
      .zremrangebyscore(NODES_KEY, 0, status.heartbeatAt - HEARTBEAT_TTL_MS)
      .exec();
  }

  async onApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
    this.loopDelay.disable();
    await this.redis.del(nodeStatusKey(this.settings.nodeId)).catch(() => undefined);
    await this.redis.zrem(NODES_KEY, this.settings.nodeId).catch(() => undefined);
  }
}
