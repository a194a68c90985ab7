import { BranchWorkerView, nodeProfileView, GONE_AFTER_BEATS, GONE_NODE_KEPT_MS, HEARTBEAT_INTERVAL_MS, NodeState, NodeStatus, NodeView, STALE_AFTER_BEATS, hardwareView, heartbeatLifetimeMs, parseBranchWorkerBeat } from '@outlet/contracts';

/** A node's state from its last status, judged against the node's own heartbeat period. */
export function nodeState(s: NodeStatus, now: number): NodeState {
  if (s.leftAt !== undefined) return 'gone';
  const age = now - s.heartbeatAt;
  const period = s.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
  if (age > GONE_AFTER_BEATS * period) return 'gone';
  if (age > STALE_AFTER_BEATS * period) return 'stale';
  return s.draining ? 'draining' : 'live';
}

/** Whether a node is still listed at all. */
export function isListed(s: NodeStatus, now: number): boolean {
  return now - (s.leftAt ?? s.heartbeatAt) <= GONE_NODE_KEPT_MS;
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
    hardware: s.hardware ? hardwareView(s.hardware) : null,
    profiles: Object.fromEntries(Object.entries(s.profiles ?? {}).map(([model, p]) => [model, nodeProfileView(p)])),
    cpu_util: s.cpuUtil ?? null,
    heartbeat_age_ms: Math.max(0, now - s.heartbeatAt),
    tasks_in_flight: status === 'gone' ? 0 : (s.tasksInFlight ?? null),
    branch_workers: branchWorkers,
    drain_ordered: drainOrdered,
    left: s.leftBecause ?? null,
    pid: s.pid,
  };
}
