/**
 * A node as GET /v1/nodes shows it (the gateway's fleet view, read by `outlet nodes`): the types,
 * and the OpenAPI schema, from one definition.
 */
import { Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from './types';

/**
 * live: heartbeats on time, taking tasks. draining: taking no new task, finishing its own.
 * stale: no heartbeat for over STALE_AFTER_BEATS periods. gone: left on purpose, or silent for
 * over GONE_AFTER_BEATS periods; listed until GONE_NODE_KEPT_MS after its last heartbeat.
 */
const NODE_STATES = ['live', 'draining', 'stale', 'gone'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export const LEFT_BECAUSE = ['drained', 'stopped'] as const;
export type LeftBecause = (typeof LEFT_BECAUSE)[number];

export const NODE_PROFILE_SOURCES = ['measured', 'stored', 'cache', 'shipped', 'predicted'] as const;
/**
 * Where the stage times behind a node's plans for a model come from:
 * - `measured`: this node profiled the package (quick protocol) since it started;
 * - `stored`: a node with the same fingerprint did, read from Redis;
 * - `cache`: this node's local cache (a profile it or a peer measured earlier);
 * - `shipped`: the package's own profile.json, measured on this fingerprint;
 * - `predicted`: the kernel-level predictor (while the node measures, or when it could not).
 */
export type NodeProfileSource = (typeof NODE_PROFILE_SOURCES)[number];

export const HardwareView = Type.Object(
  {
    id: Type.String({ example: '3f9c2a7b1d04', description: '12 hex digits of a hash of the other fields.' }),
    cpu_model: Type.String({ example: 'Intel(R) Xeon(R) Processor' }),
    isa: Type.String({ example: 'avx512', description: 'The widest vector extension the CPU reports: amx, avx512, avx2, avx, sse4, neon or none.' }),
    cores: Type.Integer(),
    trunk_ep: Type.String(),
    adapter: Type.Optional(Type.String({ description: "The GPU adapter of the trunk's provider, where it names one." })),
    trunk_threads: Type.Integer(),
    branch_threads: Type.Optional(Type.Integer({ description: "The node's branch workers' threads (OUTLET_BRANCH_THREADS)." })),
    onnxruntime: Type.String({ example: '1.30.0' }),
  },
  { description: "What the node's timings depend on; profiles, predictors and plan tables name the fingerprint (id) they were measured on." },
);
export type HardwareView = Static<typeof HardwareView>;

export const NodeProfileView = Type.Object({
  source: StringEnum(NODE_PROFILE_SOURCES, {
    description:
      "measured: this node profiled the package; stored: a node with the same fingerprint did (Redis); cache: the node's local cache; shipped: the package's profile.json, measured on this fingerprint; predicted: the kernel-level predictor, while it measures or when it could not.",
  }),
  measuring: Type.Boolean({ description: 'The node is still looking for its own profile, or measuring it (serving with predicted plans meanwhile), or waiting for a peer with its fingerprint that measures it.' }),
  measured_by: Nullable(Type.String({ description: 'The node that measured the profile.' })),
  measured_at: Nullable(Type.String({ format: 'date-time' })),
  measure_s: Nullable(Type.Number({ description: 'How long the measurement took.' })),
  plan_at_idle: Nullable(Type.String({ example: 'branch,trunk', description: "The plan auto picks from the node's own table at no CPU load and no backlog." })),
  plans: Type.Array(Type.Object({ cpu_util_max: Type.Number(), plan: Type.String(), backlog_plan: Type.String() }), {
    description: "The node's own plan table: each row holds up to cpu_util_max; backlog_plan is the plan while tasks wait.",
  }),
  replanned: Nullable(
    Type.Object({ at: Type.String({ format: 'date-time' }), reason: Type.String() }, { description: 'The last time the node made its plans again from the stage times it observed.' }),
  ),
  error: Nullable(Type.String({ description: 'Why the node could not measure.' })),
});
export type NodeProfileView = Static<typeof NodeProfileView>;

export const BranchWorkerView = Type.Object({
  id: Type.String({ description: '<hostname>:<pid>' }),
  threads: Type.Integer(),
  heartbeat_age_ms: Type.Number(),
  draining: Type.Boolean(),
});
export type BranchWorkerView = Static<typeof BranchWorkerView>;

export const NodeView = Type.Object(
  {
    id: Type.String({ example: 'edge-1' }),
    status: StringEnum(NODE_STATES, { description: 'stale: no heartbeat for over 2 periods; gone: left, or silent for over 5.' }),
    models: Type.Array(Type.String()),
    trunk_ep: Type.String({ example: 'cpu' }),
    threads: Type.Object(
      { trunk: Nullable(Type.Integer()), branch: Nullable(Type.Integer({ description: 'Of the live branch workers together.' })) },
      { description: 'ONNX Runtime threads of the trunk and of the branch workers (null: not reported / none alive).' },
    ),
    hardware: Nullable(HardwareView, { description: 'The hardware fingerprint; null from a node that does not report it.' }),
    profiles: Type.Record(Type.String(), NodeProfileView, {
      description: "Per model: where the stage times behind the node's own plans come from (empty from a node that does not report them).",
    }),
    cpu_util: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
    heartbeat_age_ms: Type.Number({ minimum: 0 }),
    tasks_in_flight: Nullable(Type.Integer()),
    branch_workers: Type.Array(BranchWorkerView, { description: "The node's branch workers whose heartbeat is still current." }),
    drain_ordered: Type.Boolean({ description: 'A drain order waits for the node (it acts on it at its next heartbeat).' }),
    left: Nullable(StringEnum(LEFT_BECAUSE), { description: 'Why a gone node left; null if it went silent or has not left.' }),
    pid: Type.Integer({ description: "The trunk worker's process id." }),
  },
  { description: 'A node as its heartbeat tells it (GET /v1/nodes).' },
);
export type NodeView = Static<typeof NodeView>;

export const NodeList = Type.Object({ nodes: Type.Array(NodeView) });
