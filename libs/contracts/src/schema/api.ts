/**
 * Every body of the gateway's HTTP API, by the name the OpenAPI document gives it
 * (`components.schemas`): the gateway's controllers point at them, /docs-json is built from them,
 * and nothing else describes them.
 */
import { Static, TSchema, Type } from '@sinclair/typebox';
import { compileCheck, errors } from './check';
import { InferRequest, InferResponse } from './inference';
import { NodeList, NodeView } from './node-view';
import { Nullable, StringEnum } from './types';

const ErrorBody = Type.Object(
  { error: Type.String({ example: "input 'input' has 10 values but shape [1,1,28,28] needs 784" }) },
  { description: 'Every refusal and failure: the status code says which, `error` says why.' },
);

const JobRequest = Type.Composite([InferRequest, Type.Object({ model: Type.String({ example: 'branchy-mnist' }) })], {
  description: 'An inference request with the model it is for.',
});

const JobAccepted = Type.Object({ id: Type.String(), model: Type.String(), state: Type.Unsafe<'waiting'>({ type: 'string', enum: ['waiting'] }) });

const JobStatus = Type.Object({
  id: Type.String(),
  model: Type.String(),
  state: Type.String({ description: 'The BullMQ job state: waiting, active, delayed, completed, failed, ...' }),
  result: Type.Optional(InferResponse),
  error: Type.Optional(Type.String({ description: 'Why it failed (state failed).' })),
});

const ServerMetadata = Type.Object({ name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) });

const TensorMetadata = Type.Object({ name: Type.String(), datatype: Type.String(), shape: Type.Array(Type.Integer(), { description: '-1: any size.' }) });

const ModelMetadata = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
  parameters: Type.Optional(
    Type.Object({
      description: Type.Optional(Type.String()),
      exit_count: Type.Optional(Type.Integer()),
      exit_thresholds: Type.Optional(Type.Array(Type.Number())),
      default_plan: Type.Optional(Type.String()),
      labels: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});

export const Duration = Type.Object({ count: Type.Integer({ minimum: 0 }), ns: Type.Integer({ minimum: 0 }) });
export type Duration = Static<typeof Duration>;

/** One entry of Triton's `model_stats[]`, plus Outlet's own numbers under `outlet` (HTTP only: Triton's message has no field for them). */
export const TritonModelStat = Type.Object({
  name: Type.String(),
  version: Type.String(),
  last_inference: Type.Integer({ description: 'Milliseconds since the epoch; 0: never.' }),
  inference_count: Type.Integer(),
  execution_count: Type.Integer(),
  inference_stats: Type.Object({
    success: Duration,
    fail: Duration,
    queue: Duration,
    compute_input: Duration,
    compute_infer: Duration,
    compute_output: Duration,
    cache_hit: Duration,
    cache_miss: Duration,
  }),
  batch_stats: Type.Array(Type.Object({ batch_size: Type.Integer(), compute_input: Duration, compute_infer: Duration, compute_output: Duration })),
  outlet: Type.Object(
    {
      exits: Type.Array(Type.Object({ exit_index: Type.Integer(), branch: Type.Integer(), trunk: Type.Integer(), total: Type.Integer() }), {
        description: 'Answers by exit (index) and by the worker that decided them.',
      }),
      trunk: Type.Object({ segments_run: Type.Integer(), segments_wasted: Type.Integer(), hand_offs: Type.Integer() }),
      branch: Type.Object({
        subjobs_run: Type.Integer(),
        subjobs_dropped: Type.Integer(),
        outcomes: Type.Object({ exit: Type.Integer(), late: Type.Integer(), continue: Type.Integer(), dropped: Type.Integer() }),
        handoff: Duration,
      }),
      fail_by: Type.Object({ worker: Type.Integer(), gateway: Type.Integer() }, { description: 'Failures seen by a worker (failed jobs) and by a gateway (timeouts, enqueue errors).' }),
    },
    { description: 'Answers by exit and worker, trunk segments run and wasted, hand-offs, branch subjobs, failures by side.' },
  ),
});
export type TritonModelStat = Static<typeof TritonModelStat>;

const ModelStatistics = Type.Object(
  { model_stats: Type.Array(TritonModelStat) },
  { description: "Triton's statistics extension, counted across every gateway and node; Outlet's own numbers under `outlet`." },
);

export const TritonTensorConfig = Type.Object({
  name: Type.String(),
  data_type: Type.String({ example: 'TYPE_FP32' }),
  format: Type.Optional(Type.String()),
  dims: Type.Array(Type.Integer(), { description: 'Without the batch dimension when max_batch_size > 0.' }),
});
export type TritonTensorConfig = Static<typeof TritonTensorConfig>;

export const TritonModelConfig = Type.Object(
  {
    name: Type.String(),
    platform: Type.String(),
    backend: Type.String(),
    max_batch_size: Type.Integer(),
    input: Type.Array(TritonTensorConfig),
    output: Type.Array(TritonTensorConfig),
    version_policy: Type.Union([
      Type.Object({ specific: Type.Object({ versions: Type.Array(Type.Integer()) }) }),
      Type.Object({ latest: Type.Object({ num_versions: Type.Integer() }) }),
    ]),
    instance_group: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), count: Type.Integer() })),
    parameters: Type.Record(Type.String(), Type.Object({ string_value: Type.String() })),
  },
  { description: "Triton's model configuration (enough for tritonclient and perf_analyzer): the fields of Triton's inference.ModelConfig, as gRPC's ModelConfig sends them too." },
);
export type TritonModelConfig = Static<typeof TritonModelConfig>;

export const ModelIndexEntry = Type.Object({
  name: Type.String(),
  version: Type.String(),
  state: StringEnum(['READY', 'UNAVAILABLE'] as const, { description: 'READY while a live trunk worker serves the model.' }),
  reason: Type.Optional(Type.String()),
});
export type ModelIndexEntry = Static<typeof ModelIndexEntry>;

const RepositoryIndex = Type.Array(ModelIndexEntry, { description: "Triton's repository index: every served model and its state." });

export const RepositoryIndexRequest = Type.Object(
  { ready: Type.Optional(Type.Boolean({ description: 'Only models that are ready.', ...errors('"ready" must be true or false') })) },
  errors('the request body must be empty or a JSON object {"ready"?: boolean}'),
);
export const checkRepositoryIndexRequest = compileCheck(RepositoryIndexRequest);

const ServerLive = Type.Object({ live: Type.Boolean() });
const ServerReady = Type.Object({ ready: Type.Boolean() });
const ModelReady = Type.Object({ name: Type.String(), ready: Type.Boolean() });

const PlanDecision = Type.Object({
  model: Type.String(),
  trunk_ep: Type.String(),
  cpu_util: Type.Number({ minimum: 0, maximum: 1 }),
  cpu_util_source: Type.String({ description: '"query", or the live nodes it was averaged over.' }),
  plan: Type.String({ example: 'branch,trunk' }),
  expected_ms: Type.Number(),
  row: Type.Optional(Type.Object({}, { description: "The plan table's row chosen." })),
  table: Type.Optional(Type.Array(Type.Object({}), { description: "The plan table's rows." })),
});

const Thresholds = Type.Object({
  model: Type.String(),
  model_version: Type.String(),
  adapt: Type.Boolean({ description: 'false: OUTLET_ADAPT=off, the offline thresholds stay.' }),
  accuracy_budget: Type.Number({ description: 'OUTLET_ACCURACY_BUDGET: the share of answers that may disagree with the final exit.' }),
  version: Type.Integer({ minimum: 1, description: 'The live version every node uses (1: the offline calibration); answers carry it as threshold_version.' }),
  thresholds: Type.Array(Type.Number(), { description: 'One per exit; above 1: the exit never answers.' }),
  offline_thresholds: Type.Array(Type.Number()),
  audit_rate: Type.Number({ description: 'The share of answered tasks audited now.' }),
  exit_probabilities: Type.Optional(
    Nullable(Type.Array(Type.Number()), { description: 'Per early exit, the share of the audited tasks reaching it that leave there at these thresholds.' }),
  ),
  updated_at: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  reason: Type.String(),
  window: Type.Object(
    {
      since: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
      records: Type.Optional(Type.Integer()),
      at_current_thresholds: Type.Optional(Nullable(Type.Object({}, { description: 'records, agreement, lowerBound (Wilson), expectedMs, exitShares' }))),
      agreement_by_exit: Type.Optional(
        Type.Array(Type.Object({ exit: Type.Integer(), answered: Type.Integer(), agreed: Type.Integer(), ratio: Nullable(Type.Number()) })),
      ),
    },
    { description: "The tuner's window of audit records." },
  ),
  history: Type.Array(Type.Object({}), {
    description: 'Changes, newest first: version, at, thresholds, previous, audit_rate, kind (start, raise, lower), reason, window.',
  }),
});

/** The bodies, by the name the OpenAPI document gives them. */
export const API_SCHEMAS = {
  Error: ErrorBody,
  InferRequest,
  InferResponse,
  JobRequest,
  JobAccepted,
  JobStatus,
  Node: NodeView,
  NodeList,
  ServerLive,
  ServerReady,
  ServerMetadata,
  ModelReady,
  ModelMetadata,
  ModelStatistics,
  ModelConfig: TritonModelConfig,
  RepositoryIndexRequest,
  RepositoryIndex,
  PlanDecision,
  Thresholds,
} satisfies Record<string, TSchema>;

export type ApiSchemaName = keyof typeof API_SCHEMAS;
