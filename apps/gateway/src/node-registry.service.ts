import { Injectable } from '@nestjs/common';
import { InjectRedis } from '@outlet/transport';
import Redis from 'ioredis';
import { NODES_KEY, NodeStatus, nodeStatusKey } from '@outlet/contracts';

/** The gateway's view of the edge nodes: who sent a heartbeat lately, serving which models. */
@Injectable()
export class NodeRegistry {
  constructor(@InjectRedis() private readonly redis: Redis) {}

  async liveNodes(): Promise<NodeStatus[]> {
    const ids = await this.redis.zrange(NODES_KEY, '0', '-1');
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map(nodeStatusKey));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeStatus);
  }

  async isModelServed(model: string): Promise<boolean> {
    return (await this.liveNodes()).some((n) => n.models.includes(model));
  }
}
