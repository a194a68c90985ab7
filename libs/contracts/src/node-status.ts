/** Redis key of a node's status, written by its trunk worker with a TTL (a heartbeat). */
export function nodeStatusKey(nodeId: string): string {
  return `outlet:node:${nodeId}`;
}

export const HEARTBEAT_INTERVAL_MS = 2_000;
export const HEARTBEAT_TTL_MS = 10_000;

/** What a node tells the fleet about itself. */
export interface NodeStatus {
  nodeId: string;
  models: string[];
  trunkEp: string;
  /** Smoothed CPU utilization of the node, 0..1, when the worker samples it. */
  cpuUtil?: number;
  /** The trunk worker's worst event-loop delay since its previous heartbeat (ms). */
  eventLoopDelayMaxMs?: number;
  pid: number;
  heartbeatAt: number;
}

/**
 * Hash of a node's live branch workers: field `<hostname>:<pid>`, value the last heartbeat (ms).
 * The node's trunk leaves their CPU time out of its load reading.
 */
export function branchWorkersKey(nodeId: string): string {
  return `outlet:node:${nodeId}:branch-workers`;
}
