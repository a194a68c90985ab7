/**
 * What the workers of a node tell the fleet about themselves through Redis (the trunk's status,
 * a branch worker's heartbeat), defined once: the types, and the gateway's check of every value it
 * reads (a value that fails is skipped: one bad value must not hide the fleet).
 */
import { Static, Type } from '@sinclair/typebox';
import { compileCheck } from './check';
import { LEFT_BECAUSE, NODE_PROFILE_SOURCES } from './node-view';
import { StringEnum } from './types';

/**
 * What a node's timings depend on. Profiles, predictors and plan tables are measured on one of
 * these, and say which; a node uses the ones measured on its own.
 */
export const HardwareFingerprint = Type.Object({
  /** 12 hex digits of a hash of every field below: the key results are stored under. */
  id: Type.String(),
  cpuModel: Type.String(),
  /** The widest vector extension the CPU reports: amx, avx512, avx2, avx, sse4, neon or none. */
  isa: Type.String(),
  /** Logical cores the node's processes may use. */
  cores: Type.Integer({ minimum: 1 }),
  /** The trunk's execution provider (resolved: cpu, webgpu, …). */
  trunkEp: Type.String(),
  /** The GPU adapter the trunk's provider runs on, where it has one and names it. */
  adapter: Type.Optional(Type.String()),
  trunkThreads: Type.Integer({ minimum: 1 }),
  /** The branch workers' threads (OUTLET_BRANCH_THREADS; absent in fingerprints made before it was part of them). */
  branchThreads: Type.Optional(Type.Integer({ minimum: 1 })),
  onnxruntime: Type.String(),
});
export type HardwareFingerprint = Static<typeof HardwareFingerprint>;

export const PlanRowSummary = Type.Object({ cpuUtilMax: Type.Number(), plan: Type.String(), backlogPlan: Type.String() });
export type PlanRowSummary = Static<typeof PlanRowSummary>;

/** A node's own profile of one model, as its trunk reports it in its status. */
export const NodeProfileStatus = Type.Object({
  source: StringEnum(NODE_PROFILE_SOURCES),
  /** The node is still looking for its own profile or measuring it (or waits for a peer with its fingerprint that does). */
  measuring: Type.Boolean(),
  /** The node that measured the profile, when and in how many seconds. */
  measuredBy: Type.Optional(Type.String()),
  measuredAt: Type.Optional(Type.String()),
  measureSeconds: Type.Optional(Type.Number()),
  /** The plan `auto` picks from the node's table at no CPU load and no backlog, e.g. `branch,trunk`. */
  planAtIdle: Type.Optional(Type.String()),
  /** The node's plan table: up to which CPU load each plan holds, alone and with a backlog. */
  plans: Type.Optional(Type.Array(PlanRowSummary)),
  /** When the node last made its plans again from the stage times it observed, and why. */
  replanned: Type.Optional(Type.Object({ at: Type.Number(), reason: Type.String() })),
  /** Why the node could not measure (it serves with predicted or shipped plans). */
  error: Type.Optional(Type.String()),
});
export type NodeProfileStatus = Static<typeof NodeProfileStatus>;

/** What a node tells the fleet about itself (its trunk writes it at every heartbeat). */
export const NodeStatus = Type.Object({
  nodeId: Type.String(),
  models: Type.Array(Type.String()),
  trunkEp: Type.String(),
  /** The trunk's ONNX Runtime threads. */
  trunkThreads: Type.Optional(Type.Integer()),
  /** What its timings depend on: CPU, ISA, provider, threads, onnxruntime (and the key its profiles are stored under). */
  hardware: Type.Optional(HardwareFingerprint),
  /** Per model: where the stage times behind its plans on this node come from. */
  profiles: Type.Optional(Type.Record(Type.String(), NodeProfileStatus)),
  /** Smoothed CPU utilization of the node, 0..1, when the worker samples it. */
  cpuUtil: Type.Optional(Type.Number()),
  /** The trunk worker's worst event-loop delay since its previous heartbeat (ms). */
  eventLoopDelayMaxMs: Type.Optional(Type.Number()),
  /** Tasks the trunk has taken and not yet finished. */
  tasksInFlight: Type.Optional(Type.Integer()),
  /** The trunk takes no new tasks and leaves once those in flight are done. */
  draining: Type.Optional(Type.Boolean()),
  /** Set in the last status a trunk writes as it leaves on purpose. */
  leftAt: Type.Optional(Type.Number()),
  /** Why the node left on purpose: drained (POST /v1/nodes/{id}/drain) or stopped (SIGTERM). */
  leftBecause: Type.Optional(StringEnum(LEFT_BECAUSE)),
  pid: Type.Integer(),
  heartbeatAt: Type.Number(),
  /** The heartbeat period this node beats at (ms): its staleness is judged against it. */
  heartbeatMs: Type.Optional(Type.Number()),
});
export type NodeStatus = Static<typeof NodeStatus>;
export const checkNodeStatus = compileCheck(NodeStatus);

/** A branch worker's heartbeat, the value of its field in branchWorkersKey. */
export const BranchWorkerBeat = Type.Object({
  at: Type.Number(),
  /** Its ONNX Runtime threads for the exit heads. */
  threads: Type.Integer(),
  /** Its heartbeat period (ms). */
  heartbeatMs: Type.Number(),
  /** Per model and exit: how long its heads ran (ms) since its previous beat (the last 20 runs at most). */
  headMs: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String({ pattern: '^\\d+$' }), Type.Array(Type.Number())))),
  /** It is leaving: its node was drained. */
  draining: Type.Optional(Type.Boolean()),
});
export type BranchWorkerBeat = Static<typeof BranchWorkerBeat>;
export const checkBranchWorkerBeat = compileCheck(BranchWorkerBeat);
