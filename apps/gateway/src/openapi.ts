/**
 * The gateway's HTTP API as an OpenAPI 3 document (@nestjs/swagger), served at `/docs` (Swagger UI)
 * and `/docs-json`. The project validates with its own functions (inference-request.ts,
 * binary-tensor.ts), not class-validator, so the request and response bodies are plain JSON schemas
 * written here by hand after those functions, and the controllers point at them with `$ref`s
 * (`ApiBody({ schema })`, `ApiResponse({ schema })`). Whoever changes what the validation accepts
 * changes the schema here too.
 */
import { INestApplication } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOkResponse, ApiParam, ApiProduces, ApiResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { PLACEMENTS, PLAN_PRESETS } from '@outlet/contracts';
import { MAX_PRIORITY } from '@outlet/config';
import { INFERENCE_HEADER_CONTENT_LENGTH } from './binary-tensor';
import { OPEN_ACCESS_EXTENSION } from './access/api-keys';
import { MAX_TIMEOUT_US } from './inference-request';
import { EVENT_STREAM } from './sse';

export const DOCS_ROUTE = 'docs';

type Schema = Record<string, unknown>;
const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` });

const duration: Schema = {
  type: 'object',
  required: ['count', 'ns'],
  properties: { count: { type: 'integer', minimum: 0 }, ns: { type: 'integer', minimum: 0 } },
};

const placement = `(${PLACEMENTS.join('|')})`;

/** The request and response bodies, as `components.schemas` of the document. */
export const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    description: 'Every refusal and failure: the status code says which, `error` says why.',
    required: ['error'],
    properties: { error: { type: 'string', example: "input 'input' has 10 values but shape [1,1,28,28] needs 784" } },
  },
  TensorData: {
    type: 'array',
    description: 'Row-major values: a flat array of finite numbers (or nested arrays, flattened).',
    items: { anyOf: [{ type: 'number' }, { $ref: '#/components/schemas/TensorData' }] },
  },
  InferInputTensor: {
    type: 'object',
    description:
      'The model\'s one input (see GET /v2/models/{name} for its name and shape). Either `data`, or `parameters.binary_data_size` ' +
      `with that many raw little-endian bytes after the JSON (binary tensor data extension, ${INFERENCE_HEADER_CONTENT_LENGTH}); not both.`,
    required: ['name', 'shape', 'datatype'],
    properties: {
      name: { type: 'string', example: 'input' },
      shape: {
        type: 'array',
        description: "The model's shape with the batch dimension first; the batch size must be 1.",
        items: { type: 'integer', minimum: 0 },
        example: [1, 1, 28, 28],
      },
      datatype: { type: 'string', enum: ['FP32'] },
      data: ref('TensorData'),
      parameters: {
        type: 'object',
        properties: { binary_data_size: { type: 'integer', minimum: 0, description: 'Bytes of this input after the JSON header (4 per FP32 value).' } },
      },
    },
  },
  InferRequestedOutput: {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', description: "A served output (see the model's metadata); an unknown one is 400.", example: 'probabilities' },
      parameters: {
        type: 'object',
        properties: { binary_data: { type: 'boolean', description: 'Answer this output as raw FP32 bytes after the response JSON.' } },
      },
    },
  },
  InferParameters: {
    type: 'object',
    description: 'Outlet\'s request parameters; others are ignored.',
    properties: {
      plan: {
        type: 'string',
        description:
          `Where each early exit runs: a preset (${PLAN_PRESETS.join(', ')}) or a comma list of ${PLACEMENTS.join('|')}, one per early exit ` +
          '(GET /v2/models/{name} gives exit_count; the last exit is the trunk\'s). Absent: the gateway\'s OUTLET_DEFAULT_PLAN.',
        anyOf: [{ enum: [...PLAN_PRESETS] }, { pattern: `^\\s*${placement}(\\s*,\\s*${placement})*\\s*$` }],
        example: 'parallel',
      },
      threshold: { type: 'number', minimum: 0, maximum: 1, description: "Confidence at which an early exit answers; absent: each exit's own." },
      binary_data_output: { type: 'boolean', description: 'Answer every requested output (or all) as raw bytes.' },
      timeout: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_TIMEOUT_US,
        description: "Triton's timeout, in microseconds from the request's receipt: a task not started by then is never run (504, or an async job failed). 0 or absent: none (/infer still waits OUTLET_INFER_TIMEOUT_MS at most).",
      },
      priority: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_PRIORITY,
        description: "Triton's priority: 1 is the highest; waiting tasks are taken in priority order, FIFO within one. 0 or absent: OUTLET_DEFAULT_PRIORITY.",
      },
      progressive: {
        type: 'boolean',
        description:
          'Answer early, then again at the final exit (the network run to its end behind other work), as server-sent events: needs the header ' +
          '`Accept: text/event-stream` (else 400) and JSON outputs; not for /v1/jobs.',
      },
    },
  },
  InferRequest: {
    type: 'object',
    description: 'An Open Inference Protocol v2 inference request for one sample.',
    required: ['inputs'],
    properties: {
      id: { type: 'string', maxLength: 256, description: 'Echoed in the response.' },
      inputs: { type: 'array', minItems: 1, maxItems: 1, items: ref('InferInputTensor') },
      outputs: { type: 'array', items: ref('InferRequestedOutput'), description: 'Absent or empty: every output.' },
      parameters: ref('InferParameters'),
    },
  },
  InferOutputTensor: {
    type: 'object',
    required: ['name', 'datatype', 'shape'],
    properties: {
      name: { type: 'string' },
      datatype: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      data: { type: 'array', items: { type: 'number' }, description: 'Absent when the output is sent as binary.' },
      parameters: { type: 'object', properties: { binary_data_size: { type: 'integer', minimum: 0 } } },
    },
  },
  InferResponse: {
    type: 'object',
    required: ['model_name', 'model_version', 'id', 'outputs', 'parameters'],
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      outputs: { type: 'array', items: ref('InferOutputTensor') },
      parameters: {
        type: 'object',
        description: 'How the request was answered.',
        properties: {
          exit_index: { type: 'integer' },
          exit_count: { type: 'integer' },
          exit_confidence: { type: 'number' },
          exit_worker: { type: 'string', enum: ['branch', 'trunk'] },
          trunk_ep: { type: 'string' },
          plan: { type: 'string' },
          plan_source: { type: 'string' },
          plan_objective: { type: 'string' },
          node_id: { type: 'string' },
          task_id: { type: 'string' },
          queue_ms: { type: 'number' },
          total_ms: { type: 'number' },
          ingress_ms: { type: 'number' },
          delivery_ms: { type: 'number' },
          cpu_util: { type: 'number' },
          label: { type: 'string' },
          threshold_version: { type: 'integer', minimum: 1, description: "The version of the model's live exit thresholds the task ran with (1: the offline calibration)." },
          final: { type: 'boolean', description: "Progressive requests only: false on an early exit's answer (the final exit's follows), true on the last." },
        },
      },
    },
  },
  JobRequest: {
    description: 'An inference request with the model it is for.',
    allOf: [ref('InferRequest'), { type: 'object', required: ['model'], properties: { model: { type: 'string', example: 'branchy-mnist' } } }],
  },
  JobAccepted: {
    type: 'object',
    required: ['id', 'model', 'state'],
    properties: { id: { type: 'string' }, model: { type: 'string' }, state: { type: 'string', enum: ['waiting'] } },
  },
  JobStatus: {
    type: 'object',
    required: ['id', 'model', 'state'],
    properties: {
      id: { type: 'string' },
      model: { type: 'string' },
      state: { type: 'string', description: 'The BullMQ job state: waiting, active, delayed, completed, failed, ...' },
      result: ref('InferResponse'),
      error: { type: 'string', description: 'Why it failed (state failed).' },
    },
  },
  Node: {
    type: 'object',
    description: 'A node as its heartbeat tells it (GET /v1/nodes).',
    required: ['id', 'status', 'models', 'trunk_ep', 'threads', 'hardware', 'profiles', 'cpu_util', 'heartbeat_age_ms', 'tasks_in_flight', 'branch_workers', 'drain_ordered', 'left', 'pid'],
    properties: {
      id: { type: 'string', example: 'edge-1' },
      status: { type: 'string', enum: ['live', 'draining', 'stale', 'gone'], description: 'stale: no heartbeat for over 2 periods; gone: left, or silent for over 5.' },
      models: { type: 'array', items: { type: 'string' } },
      trunk_ep: { type: 'string', example: 'cpu' },
      threads: {
        type: 'object',
        required: ['trunk', 'branch'],
        properties: { trunk: { type: 'integer', nullable: true }, branch: { type: 'integer', nullable: true, description: 'Of the live branch workers together.' } },
      },
      hardware: {
        type: 'object',
        nullable: true,
        description: "What the node's timings depend on; profiles, predictors and plan tables name the fingerprint (id) they were measured on. Null from a node that does not report it.",
        required: ['id', 'cpu_model', 'isa', 'cores', 'trunk_ep', 'trunk_threads', 'onnxruntime'],
        properties: {
          id: { type: 'string', example: '3f9c2a7b1d04', description: '12 hex digits of a hash of the other fields.' },
          cpu_model: { type: 'string', example: 'Intel(R) Xeon(R) Processor' },
          isa: { type: 'string', enum: ['amx', 'avx512', 'avx2', 'avx', 'sse4', 'neon', 'none'], description: 'The widest vector extension the CPU reports.' },
          cores: { type: 'integer' },
          trunk_ep: { type: 'string' },
          adapter: { type: 'string', description: "The GPU adapter of the trunk's provider, where it names one." },
          trunk_threads: { type: 'integer' },
          branch_threads: { type: 'integer', description: "The node's branch workers' threads (OUTLET_BRANCH_THREADS)." },
          onnxruntime: { type: 'string', example: '1.30.0' },
        },
      },
      profiles: {
        type: 'object',
        description: "Per model: where the stage times behind the node's own plans come from (empty from a node that does not report them).",
        additionalProperties: {
          type: 'object',
          required: ['source', 'measuring', 'measured_by', 'measured_at', 'measure_s', 'plan_at_idle', 'plans', 'replanned', 'error'],
          properties: {
            source: {
              type: 'string',
              enum: ['measured', 'stored', 'cache', 'shipped', 'predicted'],
              description: "measured: this node profiled the package; stored: a node with the same fingerprint did (Redis); cache: the node's local cache; shipped: the package's profile.json, measured on this fingerprint; predicted: the kernel-level predictor, while it measures or when it could not.",
            },
            measuring: { type: 'boolean', description: 'The node is still looking for its own profile, or measuring it (serving with predicted plans meanwhile), or waiting for a peer with its fingerprint that measures it.' },
            measured_by: { type: 'string', nullable: true, description: 'The node that measured the profile.' },
            measured_at: { type: 'string', format: 'date-time', nullable: true },
            measure_s: { type: 'number', nullable: true, description: 'How long the measurement took.' },
            plan_at_idle: { type: 'string', nullable: true, example: 'branch,trunk', description: "The plan auto picks from the node's own table at no CPU load and no backlog." },
            plans: {
              type: 'array',
              description: "The node's own plan table: each row holds up to cpu_util_max; backlog_plan is the plan while tasks wait.",
              items: {
                type: 'object',
                required: ['cpu_util_max', 'plan', 'backlog_plan'],
                properties: { cpu_util_max: { type: 'number' }, plan: { type: 'string' }, backlog_plan: { type: 'string' } },
              },
            },
            replanned: {
              type: 'object',
              nullable: true,
              required: ['at', 'reason'],
              description: 'The last time the node made its plans again from the stage times it observed.',
              properties: { at: { type: 'string', format: 'date-time' }, reason: { type: 'string' } },
            },
            error: { type: 'string', nullable: true, description: 'Why the node could not measure.' },
          },
        },
      },
      cpu_util: { type: 'number', nullable: true, minimum: 0, maximum: 1 },
      heartbeat_age_ms: { type: 'number', minimum: 0 },
      tasks_in_flight: { type: 'integer', nullable: true },
      branch_workers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'threads', 'heartbeat_age_ms', 'draining'],
          properties: { id: { type: 'string', description: '<hostname>:<pid>' }, threads: { type: 'integer' }, heartbeat_age_ms: { type: 'number' }, draining: { type: 'boolean' } },
        },
      },
      drain_ordered: { type: 'boolean', description: 'A drain order waits for the node (it acts on it at its next heartbeat).' },
      left: { type: 'string', nullable: true, enum: ['drained', 'stopped', null], description: 'Why a gone node left; null if it went silent or has not left.' },
      pid: { type: 'integer', description: "The trunk worker's process id." },
    },
  },
  NodeList: {
    type: 'object',
    required: ['nodes'],
    properties: { nodes: { type: 'array', items: ref('Node') } },
  },
  ServerMetadata: {
    type: 'object',
    required: ['name', 'version', 'extensions'],
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
  },
  TensorMetadata: {
    type: 'object',
    required: ['name', 'datatype', 'shape'],
    properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' }, description: '-1: any size.' } },
  },
  ModelMetadata: {
    type: 'object',
    required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: ref('TensorMetadata') },
      outputs: { type: 'array', items: ref('TensorMetadata') },
      parameters: {
        type: 'object',
        properties: {
          description: { type: 'string' },
          exit_count: { type: 'integer' },
          exit_thresholds: { type: 'array', items: { type: 'number' } },
          default_plan: { type: 'string' },
          labels: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
  ModelStatistics: {
    type: 'object',
    description: "Triton's statistics extension, counted across every gateway and node; Outlet's own numbers under `outlet`.",
    required: ['model_stats'],
    properties: {
      model_stats: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'version', 'last_inference', 'inference_count', 'execution_count', 'inference_stats'],
          properties: {
            name: { type: 'string' },
            version: { type: 'string' },
            last_inference: { type: 'integer', description: 'Milliseconds since the epoch; 0: never.' },
            inference_count: { type: 'integer' },
            execution_count: { type: 'integer' },
            inference_stats: {
              type: 'object',
              properties: Object.fromEntries(['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss'].map((k) => [k, duration])),
            },
            batch_stats: { type: 'array', items: { type: 'object' } },
            outlet: {
              type: 'object',
              description: 'Answers by exit and worker, trunk segments run and wasted, hand-offs, branch subjobs, failures by side.',
              properties: {
                exits: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { exit_index: { type: 'integer' }, branch: { type: 'integer' }, trunk: { type: 'integer' }, total: { type: 'integer' } },
                  },
                },
                trunk: { type: 'object', properties: { segments_run: { type: 'integer' }, segments_wasted: { type: 'integer' }, hand_offs: { type: 'integer' } } },
                branch: { type: 'object' },
                fail_by: { type: 'object', properties: { worker: { type: 'integer' }, gateway: { type: 'integer' } } },
              },
            },
          },
        },
      },
    },
  },
  ModelConfig: {
    type: 'object',
    description: "Triton's model configuration (enough for tritonclient and perf_analyzer).",
    required: ['name', 'platform', 'max_batch_size', 'input', 'output'],
    properties: {
      name: { type: 'string' },
      platform: { type: 'string' },
      backend: { type: 'string' },
      max_batch_size: { type: 'integer' },
      input: { type: 'array', items: ref('TritonTensorConfig') },
      output: { type: 'array', items: ref('TritonTensorConfig') },
      version_policy: { type: 'object' },
      instance_group: { type: 'array', items: { type: 'object' } },
      parameters: { type: 'object', additionalProperties: { type: 'object', properties: { string_value: { type: 'string' } } } },
    },
  },
  TritonTensorConfig: {
    type: 'object',
    required: ['name', 'data_type', 'dims'],
    properties: {
      name: { type: 'string' },
      data_type: { type: 'string', example: 'TYPE_FP32' },
      format: { type: 'string' },
      dims: { type: 'array', items: { type: 'integer' }, description: 'Without the batch dimension when max_batch_size > 0.' },
    },
  },
  PlanDecision: {
    type: 'object',
    required: ['model', 'trunk_ep', 'cpu_util', 'cpu_util_source', 'plan', 'expected_ms'],
    properties: {
      model: { type: 'string' },
      trunk_ep: { type: 'string' },
      cpu_util: { type: 'number', minimum: 0, maximum: 1 },
      cpu_util_source: { type: 'string', description: '"query", or the live nodes it was averaged over.' },
      plan: { type: 'string', example: 'branch,trunk' },
      expected_ms: { type: 'number' },
      row: { type: 'object', description: "The plan table's row chosen." },
      table: { type: 'array', items: { type: 'object' }, description: "The plan table's rows." },
    },
  },
  Thresholds: {
    type: 'object',
    required: ['model', 'model_version', 'adapt', 'accuracy_budget', 'version', 'thresholds', 'offline_thresholds', 'audit_rate', 'reason', 'window', 'history'],
    properties: {
      model: { type: 'string' },
      model_version: { type: 'string' },
      adapt: { type: 'boolean', description: 'false: OUTLET_ADAPT=off, the offline thresholds stay.' },
      accuracy_budget: { type: 'number', description: 'OUTLET_ACCURACY_BUDGET: the share of answers that may disagree with the final exit.' },
      version: { type: 'integer', minimum: 1, description: 'The live version every node uses (1: the offline calibration); answers carry it as threshold_version.' },
      thresholds: { type: 'array', items: { type: 'number' }, description: 'One per exit; above 1: the exit never answers.' },
      offline_thresholds: { type: 'array', items: { type: 'number' } },
      audit_rate: { type: 'number', description: 'The share of answered tasks audited now.' },
      exit_probabilities: { type: 'array', nullable: true, items: { type: 'number' }, description: 'Per early exit, the share of the audited tasks reaching it that leave there at these thresholds.' },
      updated_at: { type: 'string', format: 'date-time', nullable: true },
      reason: { type: 'string' },
      window: {
        type: 'object',
        description: "The tuner's window of audit records.",
        properties: {
          since: { type: 'string', format: 'date-time', nullable: true },
          records: { type: 'integer' },
          at_current_thresholds: { type: 'object', nullable: true, description: 'records, agreement, lowerBound (Wilson), expectedMs, exitShares' },
          agreement_by_exit: { type: 'array', items: { type: 'object', properties: { exit: { type: 'integer' }, answered: { type: 'integer' }, agreed: { type: 'integer' }, ratio: { type: 'number', nullable: true } } } },
        },
      },
      history: { type: 'array', items: { type: 'object' }, description: 'Changes, newest first: version, at, thresholds, previous, audit_rate, kind (start, raise, lower), reason, window.' },
    },
  },
};

export const schemaRef = ref;

/** An `{"error"}` response for each status, with what it means on this route. */
/** The 503 of every operation that needs Redis to answer (RedisAvailability). */
export const REDIS_AWAY = 'Redis is away or did not answer within 1 s; retry after the Retry-After header\'s seconds.';

export function ApiErrors(errors: Record<number, string>): MethodDecorator {
  const decorators = Object.entries(errors).map(([status, description]) => ApiResponse({ status: Number(status), description, schema: ref('Error') }));
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

/** The path parameters `name` and (optionally) `version` of a model route. */
export function ApiModelParams(withVersion = false): MethodDecorator {
  const decorators = [ApiParam({ name: 'name', description: 'A served model (GET /v2/models/stats lists them).', schema: { type: 'string' }, example: 'branchy-mnist' })];
  if (withVersion) decorators.push(ApiParam({ name: 'version', description: "The model's version; another is 404.", schema: { type: 'string' }, example: '1' }));
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

/** The binary tensor data extension, as the infer operations describe it. */
export const BINARY_TENSOR_DESCRIPTION = [
  'Runs one sample and answers with the first decision of any exit (JSON, the default).',
  '',
  'The body is read as JSON whatever its `Content-Type` (or with none), and may be sent with `Content-Encoding: gzip` or `deflate`.',
  '',
  '**Binary tensor data extension** (KServe / Triton): send the header',
  `\`${INFERENCE_HEADER_CONTENT_LENGTH}: <n>\` and a body (e.g. \`application/octet-stream\`) whose first *n* bytes are the JSON request`,
  'and whose remaining bytes are the raw little-endian FP32 values of every input that has `parameters.binary_data_size` (in input order;',
  'such an input has no `data`). The sizes must add up to exactly the bytes after the JSON, else 400.',
  'Ask for outputs as binary with `outputs[].parameters.binary_data: true` or `parameters.binary_data_output: true`: the response is then',
  `\`application/octet-stream\`, its \`${INFERENCE_HEADER_CONTENT_LENGTH}\` header gives the length of its JSON part, each binary output has`,
  '`parameters.binary_data_size` and no `data`, and its bytes follow the JSON in output order.',
  '',
  '**Progressive answers**: with `parameters.progressive: true` and the header `Accept: text/event-stream`, the response is a stream of',
  'server-sent events, `event: answer` (`id:` the exit index) whose `data` is the JSON response above: the first exit decision, then,',
  'if that was an early exit, the final exit\'s answer; the last has `parameters.final: true`, then the stream ends. It starts with',
  'the first answer, so errors before it are `{"error"}` with their status; if the final answer does not come in time the stream',
  'ends with `event: error` and `{"error"}` as data. Without that Accept header a progressive request is a 400.',
].join('\n');

/** The infer operations' request, responses and errors (decorators only). */
export function ApiInferBody(): MethodDecorator {
  const decorators = [
    ApiConsumes('application/json', 'application/octet-stream'),
    ApiProduces('application/json', 'application/octet-stream', EVENT_STREAM),
    ApiHeader({
      name: INFERENCE_HEADER_CONTENT_LENGTH,
      required: false,
      description: 'Binary tensor data extension: the length in bytes of the JSON part of the body; the input bytes follow it.',
      schema: { type: 'integer', minimum: 0 },
    }),
    ApiBody({
      description: 'JSON (whatever the Content-Type), or with the binary extension a JSON header followed by raw input bytes.',
      schema: schemaRef('InferRequest'),
    }),
    ApiOkResponse({
      description: `The answer as JSON; as application/octet-stream with an ${INFERENCE_HEADER_CONTENT_LENGTH} header when outputs were asked for as binary; as ${EVENT_STREAM} for a progressive request.`,
      schema: schemaRef('InferResponse'),
      headers: { [INFERENCE_HEADER_CONTENT_LENGTH]: { description: 'Only on binary responses: the length of the JSON part.', schema: { type: 'integer' } } },
    }),
    ApiErrors({
      400: 'The body does not validate (malformed JSON, wrong input name, shape, datatype, values not finite in FP32, "data" nested unlike the shape, unknown output, bad plan, threshold, timeout, priority or progressive) or its binary framing does not add up; or progressive without Accept: text/event-stream, or with binary outputs.',
      404: 'Unknown model or version.',
      413: 'The body is larger than OUTLET_BODY_LIMIT.',
      415: 'Unsupported Content-Encoding.',
      422: 'An exit head returned a non-finite output for this input (values the model cannot compute in FP32, e.g. near ±3.4e38).',
      429: 'The model already has OUTLET_MAX_QUEUED tasks waiting; retry after Retry-After seconds.',
      500: 'The task failed in a worker.',
      503: REDIS_AWAY,
      504: 'No answer within the request\'s timeout (then the task is not run if not started) or OUTLET_INFER_TIMEOUT_MS (the task may still finish: GET /v1/jobs/{id}).',
    }),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

const API_KEY_SCHEME = 'api_key';
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });

/** Build the document from the controllers' decorators and add the schemas above. */
export function createOpenApiDocument(app: INestApplication, models: string[]) {
  const config = new DocumentBuilder()
    .setTitle('Outlet gateway')
    .setDescription(
      'Multi-exit (early-exit) inference over the Open Inference Protocol v2 (KServe / Triton HTTP), with its binary tensor data, ' +
        'statistics and model configuration extensions, plus asynchronous jobs, plan decisions and Prometheus metrics. ' +
        `Served models: ${models.join(', ')}. Errors are always \`{"error": "..."}\`. ` +
        'Not described here: Bull Board at /admin/queues (HTML, behind basic auth when OUTLET_ADMIN_USER/OUTLET_ADMIN_PASSWORD are set) ' +
        'and the gRPC service inference.GRPCInferenceService on OUTLET_GRPC_PORT.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of OUTLET_API_KEYS; needed only when that setting is set.' }, API_KEY_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...(SCHEMAS as any) } };
  const binary = {
    type: 'string',
    format: 'binary',
    description: `A JSON header of ${INFERENCE_HEADER_CONTENT_LENGTH} bytes (the schema of application/json), then the raw little-endian tensor bytes.`,
  };
  const eventStream = {
    type: 'string',
    description: 'Server-sent events: `event: answer` with an InferResponse as JSON data, one per answer; or a last `event: error` with `{"error"}`.',
  };
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item as Record<string, any>)) {
      if (typeof op !== 'object' || op === null || !op.responses) continue;
      // Every route needs a key when OUTLET_API_KEYS is set, except health (@OpenAccess).
      if (op[OPEN_ACCESS_EXTENSION]) {
        delete op[OPEN_ACCESS_EXTENSION];
        op.security = [];
      } else {
        op.security = [{ [API_KEY_SCHEME]: [] }];
        op.responses['401'] ??= errorResponse('No API key, or a wrong one (only when OUTLET_API_KEYS is set); the WWW-Authenticate header says which.');
        op.responses['429'] ??= errorResponse('Over the rate limit of this API key or client (only when OUTLET_RATE_LIMIT is set); Retry-After gives the seconds to wait.');
      }
      // The model name is one of the served models.
      for (const p of op.parameters ?? []) if (p.in === 'path' && p.name === 'name') p.schema = { ...p.schema, enum: models };
      // A framed (binary tensor data) body is bytes, not the JSON schema the decorators give every content type.
      const octet = op.requestBody?.content?.['application/octet-stream'];
      if (octet) octet.schema = binary;
      for (const [status, res] of Object.entries(op.responses as Record<string, any>)) {
        if (!res.content) continue;
        if (!/^2/.test(status)) {
          // Errors are {"error"} JSON whatever the request asked for.
          delete res.content['application/octet-stream'];
          delete res.content[EVENT_STREAM];
          continue;
        }
        if (res.content['application/octet-stream']) res.content['application/octet-stream'].schema = binary;
        if (res.content[EVENT_STREAM]) res.content[EVENT_STREAM].schema = eventStream;
      }
    }
  }
  return document;
}

/** Swagger UI at /docs and the document at /docs-json. */
export function setupOpenApi(app: INestApplication, models: string[]): void {
  SwaggerModule.setup(DOCS_ROUTE, app, () => createOpenApiDocument(app, models), { jsonDocumentUrl: `${DOCS_ROUTE}-json`, raw: ['json'] });
}
