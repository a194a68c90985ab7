import { HardwareFingerprint } from './hardware';
import { NodeProfileStatus } from './node-profile';
import { HardwareView, LeftBecause } from './schema/node-view';
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

/** What a node tells the fleet about itself. */
export interface NodeStatus {
  nodeId: string;
  models: string[];
  trunkEp: string;
  /** The trunk's ONNX Runtime threads. */
  trunkThreads?: number;
  /** What its timings depend on: CPU, ISA, provider, threads, onnxruntime (and the key its profiles are stored under). */
  hardware?: HardwareFingerprint;
  /** Per model: where the stage times behind its plans on this node come from. */
  profiles?: Record<string, NodeProfileStatus>;
  /** Smoothed CPU utilization of the node, 0..1, when the worker samples it. */
  cpuUtil?: number;
  /** The trunk worker's worst event-loop delay since its previous heartbeat (ms). */
  eventLoopDelayMaxMs?: number;
  /** Tasks the trunk has taken and not yet finished. */
  tasksInFlight?: number;
  /** The trunk takes no new tasks and leaves once those in flight are done. */
  draining?: boolean;
  /** Set in the last status a trunk writes as it leaves on purpose. */
  leftAt?: number;
  /** Why the node left on purpose: drained (POST /v1/nodes/{id}/drain) or stopped (SIGTERM). */
  leftBecause?: LeftBecause;
  pid: number;
  heartbeatAt: number;
  /** The heartbeat period this node beats at (ms): its staleness is judged against it. */
  heartbeatMs?: number;
}

/** A branch worker's heartbeat, the value of its field in branchWorkersKey. */
export interface BranchWorkerBeat {
  at: number;
  /** Its ONNX Runtime threads for the exit heads. */
  threads: number;
  /** Its heartbeat period (ms). */
  heartbeatMs: number;
  /** Per model and exit: how long its heads ran (ms) since its previous beat (the last 20 runs at most). */
  headMs?: Record<string, Record<number, number[]>>;
  /** It is leaving: its node was drained. */
  draining?: boolean;
}

/** A branch worker's heartbeat from its hash value; undefined for anything else. */
export function parseBranchWorkerBeat(text: string | null | undefined): BranchWorkerBeat | undefined {
  if (!text) return undefined;
  try {
    const beat = JSON.parse(text) as BranchWorkerBeat;
    return typeof beat === 'object' && beat !== null && Number.isFinite(beat.at) ? beat : undefined;
  } catch {
    return undefined;
  }
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
