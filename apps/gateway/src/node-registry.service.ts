import { Injectable } from '@nestjs/common';
import { InjectRedis } from '@outlet/transport';
import Redis from 'ioredis';
import { GONE_NODE_KEPT_MS, NODES_KEY, NodeStatus, NodeView, branchWorkersKey, echoText, nodeDrainKey, nodeStatusKey, parseNodeStatus } from '@outlet/contracts';
import { RequestError } from './inference-request';
import { isListed, nodeState, nodeView } from './fleet-view';

/** The gateway's view of the edge nodes: their heartbeats, the models they serve, their state; and drain orders. */
@Injectable()
export class NodeRegistry {
  constructor(@InjectRedis() private readonly redis: Redis) {}

  /** Every listed node's last status (live, draining, stale or gone). */
  private async statuses(now: number): Promise<NodeStatus[]> {
    const ids = await this.redis.zrange(NODES_KEY, '0', '-1');
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map(nodeStatusKey));
    return values.map(parseNodeStatus).filter((s): s is NodeStatus => s !== undefined && isListed(s, now));
  }

  /** Nodes that take tasks: live, or stale but not yet gone (a draining node takes no new task). */
  async liveNodes(): Promise<NodeStatus[]> {
    const now = Date.now();
    return (await this.statuses(now)).filter((s) => ['live', 'stale'].includes(nodeState(s, now)));
  }

  async isModelServed(model: string): Promise<boolean> {
    return (await this.liveNodes()).some((n) => n.models.includes(model));
  }

  /** Every listed node as GET /v1/nodes shows it, by id. */
  async fleet(): Promise<NodeView[]> {
    const now = Date.now();
    const statuses = await this.statuses(now);
    if (statuses.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const s of statuses) pipeline.hgetall(branchWorkersKey(s.nodeId)).exists(nodeDrainKey(s.nodeId));
    const replies = (await pipeline.exec()) ?? [];
    return statuses
      .map((s, i) => nodeView(s, (replies[2 * i]?.[1] as Record<string, string>) ?? {}, replies[2 * i + 1]?.[1] === 1, now))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** One node, or a 404 naming it. */
  async node(id: string): Promise<NodeView> {
    const node = (await this.fleet()).find((n) => n.id === id);
    if (!node) throw new RequestError(404, `no node '${echoText(id)}' is listed (GET /v1/nodes lists the nodes heard from in the last ${GONE_NODE_KEPT_MS / 60_000} minutes)`);
    return node;
  }

  /**
   * Order a node to drain: its trunk reads the order at its next heartbeat, takes no new task,
   * finishes those in flight and leaves; its branch worker follows. 409 for a node that is gone.
   */
  async drain(id: string): Promise<NodeView> {
    const node = await this.node(id);
    if (node.status === 'gone') throw new RequestError(409, `node '${echoText(id)}' is gone (${node.left ? `it left: ${node.left}` : 'no heartbeat'}); there is nothing to drain`);
    // The order lapses with the node's listing: a node that died while draining is not drained when it comes back later.
    await this.redis.set(nodeDrainKey(id), String(Date.now()), 'PX', GONE_NODE_KEPT_MS);
    return { ...node, drain_ordered: true };
  }
}
