import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_MS, NODES_KEY, NodeStatus, nodeStatusKey } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { MultiExitModel } from '@outlet/inference';
import { PlanSelector } from './plan-selector.service';
import { TRUNK_MODELS, TRUNK_SETTINGS } from './tokens';

/** Tells the fleet this node is alive, which models it serves and how loaded its CPU is. */
@Injectable()
export class NodeHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeHeartbeat.name);
  private readonly redis: Redis;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_MODELS) private readonly models: Map<string, MultiExitModel>,
    private readonly plans: PlanSelector,
  ) {
    this.redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  }

  async onApplicationBootstrap() {
    await this.beat();
    this.timer = setInterval(() => this.beat().catch((err) => this.logger.warn(`heartbeat failed: ${err.message}`)), HEARTBEAT_INTERVAL_MS);
  }

  private async beat() {
    const status: NodeStatus = {
      nodeId: this.settings.nodeId,
      models: [...this.models.keys()],
      trunkEp: [...this.models.values()][0]?.ep ?? 'cpu',
      cpuUtil: this.plans.cpuUtilization(),
      pid: process.pid,
      heartbeatAt: Date.now(),
    };
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
    await this.redis.del(nodeStatusKey(this.settings.nodeId)).catch(() => undefined);
    await this.redis.zrem(NODES_KEY, this.settings.nodeId).catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }
}
