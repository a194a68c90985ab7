/**
 * The Open Inference Protocol v2 inference request and response as Outlet accepts and answers
 * them: one definition gives the TypeScript types, the gateway's compiled check of every request
 * (HTTP JSON, the binary extension's JSON part, gRPC's equivalent) and the OpenAPI schemas.
 *
 * The schemas check what holds for every model; what depends on the model (the input's name and
 * shape, the value count, the plan's placements, the output names) is checked against its manifest
 * by the gateway (apps/gateway/src/inference-request.ts). Error templates: see check.ts.
 */
import { Static, Type } from '@sinclair/typebox';
import { PLACEMENTS, PLAN_PATTERN, PLAN_PRESETS, unknownPlacementMessage } from '../plan';
import { INPUT_TTL_MS } from '../queues';
import { compileCheck, errors } from './check';
import { StringEnum } from './types';

/** BullMQ's lowest priority (its highest is 1); a request's `priority` may not go beyond it. */
export const MAX_PRIORITY = 2 ** 21;

/** A task cannot wait longer than its input is kept beside its job. */
export const MAX_TIMEOUT_US = INPUT_TTL_MS * 1000;

/** The HTTP header that gives the length of the JSON part of a framed body (request or response). */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

const TENSOR_DATATYPES = ['FP32'] as const;

/**
 * Tensor values. Each value is checked as it is copied into FP32 (finite, within FP32's range,
 * nested exactly as the shape), where the fault can be named with its index; checking them here as
 * well would walk 12,544 values twice.
 */
const TensorData = Type.Array(Type.Unknown({ description: 'A number, or an array nested as the shape.' }), {
  description:
    'Row-major values, finite in FP32: a flat array of numbers, or arrays nested exactly as the shape (one level per dimension, leading dimensions of 1 may be left out).',
  ...errors('input {tensor} needs "data": a flat, row-major array of numbers'),
});

const InferInputTensor = Type.Object(
  {
    name: Type.String({ example: 'input', ...errors("every input must be an object with a \"name\"; model '{model}' takes '{input}'") }),
    shape: Type.Array(Type.Integer({ minimum: 0, ...errors('input {tensor} shape must be an array of non-negative integers') }), {
      description: "The model's shape with the batch dimension first; the batch size must be 1.",
      example: [1, 1, 28, 28],
      ...errors('input {tensor} shape must be an array of non-negative integers'),
    }),
    datatype: StringEnum(TENSOR_DATATYPES, errors("input {tensor} has datatype {value}; expected 'FP32'")),
    data: Type.Optional(TensorData),
    parameters: Type.Optional(
      Type.Object(
        {
          binary_data_size: Type.Optional(
            Type.Integer({
              minimum: 0,
              description: 'Bytes of this input after the JSON header (4 per FP32 value).',
              ...errors('input {tensor} parameters.binary_data_size must be a non-negative integer, not {value}'),
            }),
          ),
        },
        errors('input {tensor} "parameters" must be an object'),
      ),
    ),
  },
  {
    description:
      "The model's one input (see GET /v2/models/{name} for its name and shape). Either `data`, or `parameters.binary_data_size` " +
      `with that many raw little-endian bytes after the JSON (binary tensor data extension, ${INFERENCE_HEADER_CONTENT_LENGTH}); not both.`,
    ...errors({
      type: "every input must be an object with a \"name\"; model '{model}' takes '{input}'",
      required: 'input {tensor} needs "{missing}"',
    }),
  },
);

const InferRequestedOutput = Type.Object(
  {
    name: Type.String({ description: "A served output (see the model's metadata); an unknown one is 400.", example: 'probabilities', ...errors("unknown output {value}: model '{model}' outputs '{output}'") }),
    parameters: Type.Optional(
      Type.Object(
        {
          binary_data: Type.Optional(
            Type.Boolean({ description: 'Answer this output as raw FP32 bytes after the response JSON.', ...errors('output {tensor} parameters.binary_data must be true or false') }),
          ),
        },
        errors('output {tensor} "parameters" must be an object'),
      ),
    ),
  },
  errors("unknown output {value}: model '{model}' outputs '{output}'"),
);

const InferParameters = Type.Object(
  {
    plan: Type.Optional(
      Type.String({
        description:
          `Where each early exit runs: a preset (${PLAN_PRESETS.join(', ')}) or a comma list of ${PLACEMENTS.join('|')}, one per early exit ` +
          "(GET /v2/models/{name} gives exit_count; the last exit is the trunk's). Absent: the gateway's OUTLET_DEFAULT_PLAN.",
        example: 'parallel',
        pattern: PLAN_PATTERN,
        ...errors({
          type: `parameters.plan must be a string (one of ${PLAN_PRESETS.join(', ')} or a comma list)`,
          pattern: (plan) => `parameters.plan: ${unknownPlacementMessage(String(plan))}`,
        }),
      }),
    ),
    threshold: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: "Confidence at which an early exit answers; absent: each exit's own.", ...errors('parameters.threshold must be a number from 0 to 1') }),
    ),
    binary_data_output: Type.Optional(
      Type.Boolean({ description: 'Answer every requested output (or all) as raw bytes.', ...errors('parameters.binary_data_output must be true or false') }),
    ),
    timeout: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_TIMEOUT_US,
        description:
          "Triton's timeout, in microseconds from the request's receipt: a task not started by then is never run (504, or an async job failed). 0 or absent: none (/infer still waits OUTLET_INFER_TIMEOUT_MS at most).",
        ...errors(`parameters.timeout must be an integer number of microseconds from 0 (none) to ${MAX_TIMEOUT_US} (24 h, how long an input is kept), not {value}`),
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_PRIORITY,
        description: "Triton's priority: 1 is the highest; waiting tasks are taken in priority order, FIFO within one. 0 or absent: OUTLET_DEFAULT_PRIORITY.",
        ...errors(`parameters.priority must be an integer from 1 (highest) to ${MAX_PRIORITY} (lowest), or 0 for the default, not {value}`),
      }),
    ),
    progressive: Type.Optional(
      Type.Boolean({
        description:
          'Answer early, then again at the final exit (the network run to its end behind other work), as server-sent events: needs the header ' +
          '`Accept: text/event-stream` (else 400) and JSON outputs; not for /v1/jobs.',
        ...errors('parameters.progressive must be true or false, not {value}'),
      }),
    ),
  },
  { description: "Outlet's request parameters; others are ignored.", ...errors('"parameters" must be an object') },
);

export const InferRequest = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256, description: 'Echoed in the response.', ...errors('"id" must be a string of at most 256 characters') })),
    inputs: Type.Array(InferInputTensor, {
      minItems: 1,
      maxItems: 1,
      ...errors({ type: '"inputs" must be an array of tensors', minItems: "missing input '{input}'", maxItems: "input '{input}' is given {count} times" }),
    }),
    outputs: Type.Optional(Type.Array(InferRequestedOutput, { description: 'Absent or empty: every output.', ...errors('"outputs" must be an array of {"name"}') })),
    parameters: Type.Optional(InferParameters),
  },
  {
    description: 'An Open Inference Protocol v2 inference request for one sample.',
    ...errors({ type: 'the request body must be a JSON object with an "inputs" array', required: '"inputs" must be an array of tensors' }),
  },
);
export type InferRequest = Static<typeof InferRequest>;

/**
 * Check a request body's model-independent structure. `context` names the model's input and
 * output for the messages: `{ model, input, output }`.
 */
export const checkInferRequest = compileCheck(InferRequest);

const InferOutputTensor = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
  data: Type.Optional(Type.Array(Type.Number(), { description: 'Absent when the output is sent as binary.' })),
  parameters: Type.Optional(Type.Object({ binary_data_size: Type.Optional(Type.Integer({ minimum: 0 })) })),
});

export const EXIT_WORKERS = ['branch', 'trunk'] as const;

/** How a request was answered: the `parameters` of every answer. */
export const AnswerParameters = Type.Object(
  {
    exit_index: Type.Integer({ minimum: 0 }),
    exit_count: Type.Integer({ minimum: 1 }),
    exit_confidence: Type.Number(),
    exit_worker: StringEnum(EXIT_WORKERS),
    trunk_ep: Type.String(),
    plan: Type.String(),
    plan_source: Type.String(),
    plan_objective: Type.Optional(Type.String()),
    node_id: Type.String(),
    task_id: Type.String(),
    queue_ms: Type.Number(),
    total_ms: Type.Number(),
    ingress_ms: Type.Optional(Type.Number()),
    delivery_ms: Type.Optional(Type.Number()),
    cpu_util: Type.Optional(Type.Number()),
    label: Type.Optional(Type.String()),
    threshold_version: Type.Integer({ minimum: 1, description: "The version of the model's live exit thresholds the task ran with (1: the offline calibration)." }),
    final: Type.Optional(Type.Boolean({ description: "Progressive requests only: false on an early exit's answer (the final exit's follows), true on the last." })),
  },
  { description: 'How the request was answered.' },
);
export type AnswerParameters = Static<typeof AnswerParameters>;

export const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.String(),
  outputs: Type.Array(InferOutputTensor),
  parameters: AnswerParameters,
});
export type InferResponse = Static<typeof InferResponse>;
