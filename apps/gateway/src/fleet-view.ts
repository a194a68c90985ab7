import { GONE_AFTER_BEATS, GONE_NODE_KEPT_MS, HEARTBEAT_INTERVAL_MS, LeftBecause, NodeStatus, STALE_AFTER_BEATS, heartbeatLifetimeMs, parseBranchWorkerBeat } from '@outlet/contracts';

/**
 * live: heartbeats on time, taking tasks. draining: taking no new task, finishing its own.
 * stale: no heartbeat for over STALE_AFTER_BEATS periods. gone: left on purpose, or silent for
 * over GONE_AFTER_BEATS periods; listed until GONE_NODE_KEPT_MS after its last heartbeat.
 */
export type NodeState = 'live' | 'draining' | 'stale' | 'gone';

/** A node's state from its last status, judged against the node's own heartbeat period. */
export function nodeState(s: NodeStatus, now: number): NodeState {
  if (s.leftAt !== undefined) return 'gone';
  const age = now - s.heartbeatAt;
  const period = s.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
  if (age > GONE_AFTER_BEATS * period) return 'gone';
  if (age > STALE_AFTER_BEATS * period) return 'stale';
  return s.draining ? 'draining' : 'live';
}

/** A node's status from its Redis value; undefined when absent or not a status (one bad value must not hide the fleet). */
export function parseNodeStatus(text: string | null): NodeStatus | undefined {
  if (text === null) return undefined;
  try {
    const s = JSON.parse(text) as NodeStatus;
    return typeof s?.nodeId === 'string' && Number.isFinite(s.heartbeatAt) && Array.isArray(s.models) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a node is still listed at all. */
export function isListed(s: NodeStatus, now: number): boolean {
  return now - (s.leftAt ?? s.heartbeatAt) <= GONE_NODE_KEPT_MS;
}

export interface BranchWorkerView {
  /** `<hostname>:<pid>` */
  id: string;
  threads: number;
  heartbeat_age_ms: number;
  draining: boolean;
}

/** One node as GET /v1/nodes shows it. */
export interface NodeView {
  id: string;
  status: NodeState;
  models: string[];
  trunk_ep: string;
  /** ONNX Runtime threads of the trunk and of the branch workers together (null: not reported / none alive). */
  threads: { trunk: number | null; branch: number | null };
  cpu_util: number | null;
  heartbeat_age_ms: number;
  tasks_in_flight: number | null;
  /** The node's branch workers whose heartbeat is still current. */
  branch_workers: BranchWorkerView[];
  /** A drain order waits for the node (it acts on it at its next heartbeat). */
  drain_ordered: boolean;
  /** Why a gone node left: drained or stopped; null when it went silent (or has not left). */
  left: LeftBecause | null;
  pid: number;
}

/** The view of a node from its status, its branch workers' hash and whether a drain order waits. */
export function nodeView(s: NodeStatus, branchHash: Record<string, string>, drainOrdered: boolean, now: number): NodeView {
  const status = nodeState(s, now);
  const branchWorkers: BranchWorkerView[] = [];
  for (const [id, text] of Object.entries(branchHash)) {
    const beat = parseBranchWorkerBeat(text);
    if (!beat || now - beat.at > heartbeatLifetimeMs(beat.heartbeatMs)) continue;
    branchWorkers.push({ id, threads: beat.threads, heartbeat_age_ms: Math.max(0, now - beat.at), draining: beat.draining === true });
  }
  branchWorkers.sort((a, b) => a.id.localeCompare(b.id));
  return {
    id: s.nodeId,
    status,
    models: s.models,
    trunk_ep: s.trunkEp,
    threads: { trunk: s.trunkThreads ?? null, branch: branchWorkers.length ? branchWorkers.reduce((n, w) => n + w.threads, 0) : null },
    cpu_util: s.cpuUtil ?? null,
    heartbeat_age_ms: Math.max(0, now - s.heartbeatAt),
    tasks_in_flight: status === 'gone' ? 0 : (s.tasksInFlight ?? null),
    branch_workers: branchWorkers,
    drain_ordered: drainOrdered,
    left: s.leftBecause ?? null,
    pid: s.pid,
  };
}
