import { HardwareView } from './schema/node-view';
import { parseChecked } from './schema/check';
import { BranchWorkerBeat, HardwareFingerprint, NodeStatus, checkBranchWorkerBeat, checkNodeStatus } from './schema/node-status';
/** The default heartbeat period of a node's workers (OUTLET_HEARTBEAT_MS). */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A node whose last heartbeat is older than this many of its periods is stale. */
export const STALE_AFTER_BEATS = 2;
/** ...and older than this many, gone: it no longer counts as serving anything. */
export const GONE_AFTER_BEATS = 5;
/** How long a gone node stays listed (after its last heartbeat, or after it left), then it is dropped. */
export const GONE_NODE_KEPT_MS = 5 * 60_000;

/** How long a heartbeat (of a trunk or a branch worker) beating every `intervalMs` vouches for it. */
export function heartbeatLifetimeMs(intervalMs: number): number {
  return GONE_AFTER_BEATS * intervalMs;
}

/** A node's status from its Redis value; undefined when absent or not a status (one bad value must not hide the fleet). */
export function parseNodeStatus(text: string | null | undefined): NodeStatus | undefined {
  return parseChecked(checkNodeStatus, text);
}

/** A branch worker's heartbeat from its hash value; undefined for anything else. */
export function parseBranchWorkerBeat(text: string | null | undefined): BranchWorkerBeat | undefined {
  return parseChecked(checkBranchWorkerBeat, text);
}

/** A hardware fingerprint as GET /v1/nodes shows it. */
export function hardwareView(f: HardwareFingerprint): HardwareView {
  return {
    id: f.id,
    cpu_model: f.cpuModel,
    isa: f.isa,
    cores: f.cores,
    trunk_ep: f.trunkEp,
    ...(f.adapter ? { adapter: f.adapter } : {}),
    trunk_threads: f.trunkThreads,
    ...(f.branchThreads !== undefined ? { branch_threads: f.branchThreads } : {}),
    onnxruntime: f.onnxruntime,
  };
}
