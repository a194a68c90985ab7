/**
 * The job payloads that pass between processes through Redis: a task (gateway → trunk worker) and
 * an exit-head subjob (trunk → branch worker). The types and the workers' checks come from one
 * definition: a worker checks every payload it takes before it acts on it, and a malformed one
 * fails alone, naming the field, while the worker goes on serving.
 */
import { Static, Type } from '@sinclair/typebox';
import { PLACEMENTS } from '../plan';
import { compileCheck } from './check';
import { EXIT_WORKERS } from './inference';
import { StringEnum } from './types';

const Placement = StringEnum(PLACEMENTS);
const Dims = Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 16 });

/**
 * A task's input tensor as its job names it: the values wait beside the job as one binary Redis
 * value (raw little-endian FP32 at `key`), so the job itself stays small on every queue hop.
 */
export const TaskInput = Type.Object({
  name: Type.String(),
  shape: Dims,
  datatype: StringEnum(['FP32'] as const),
  key: Type.String({ minLength: 1 }),
});
export type TaskInput = Static<typeof TaskInput>;

/** Payload of one task in a model's inference queue. */
export const InferJobData = Type.Object({
  model: Type.String(),
  /** The client's request id (OIP `id`), echoed in the answer. */
  requestId: Type.String(),
  input: TaskInput,
  /** `serial` | `parallel` | `full` | `auto` | comma list; checked against the model by the trunk. */
  plan: Type.String(),
  /** Where the plan came from: the request, or the gateway's default. */
  planSource: StringEnum(['request', 'default'] as const),
  /** Overrides every early exit's threshold when set. */
  threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Wall clock (ms, sub-ms precision) when the gateway enqueued the task. */
  enqueuedAt: Type.Number(),
  /** Wall clock (ms) after which the task is not run (the request's `timeout` from its receipt). */
  deadline: Type.Optional(Type.Number()),
  /** Set by a gateway waiting synchronously: the answer (or failure) is published on answerChannel(replyTo). */
  replyTo: Type.Optional(Type.String()),
  /** A progressive request (with replyTo): after an early answer, the final exit's answer is published too. */
  progressive: Type.Optional(Type.Boolean()),
});
export type InferJobData = Static<typeof InferJobData>;
export const checkInferJobData = compileCheck(InferJobData);

export const FEATURE_TRANSPORTS = ['shm', 'redis'] as const;
export type FeatureTransport = (typeof FEATURE_TRANSPORTS)[number];

/** Where a handed-off feature waits for the branch worker: a file in the node's shared memory, or a Redis value. */
export const FeatureRef = Type.Union([
  Type.Object({ transport: Type.Literal('shm'), file: Type.String({ minLength: 1 }) }),
  Type.Object({ transport: Type.Literal('redis'), key: Type.String({ minLength: 1 }) }),
]);
export type FeatureRef = Static<typeof FeatureRef>;

const PLAN_SOURCES = ['request', 'default', 'auto'] as const;
const PLAN_OBJECTIVES = ['latency', 'throughput'] as const;

/** What a branch worker needs besides the feature to answer a task itself. */
export const AnswerContext = Type.Object({
  /** The client's request id (OIP `id`), echoed in the answer. */
  requestId: Type.String(),
  replyTo: Type.Optional(Type.String()),
  trunkEp: Type.String(),
  plan: Type.Array(Placement),
  planSource: StringEnum(PLAN_SOURCES),
  /** CPU utilization the node saw when choosing an `auto` plan. */
  cpuUtil: Type.Optional(Type.Number()),
  /** What an `auto` plan was chosen for: latency (no backlog) or throughput (tasks waiting). */
  planObjective: Type.Optional(StringEnum(PLAN_OBJECTIVES)),
  /** From the gateway's enqueue to the trunk taking the task. */
  queueMs: Type.Number(),
  /** The version of the model's live exit thresholds the task ran with (1: the offline calibration). */
  thresholdVersion: Type.Integer({ minimum: 1 }),
});
export type AnswerContext = Static<typeof AnswerContext>;

/** Payload of one exit-head subjob in a node's branch queue. */
export const BranchJobData = Type.Object({
  taskId: Type.String(),
  model: Type.String(),
  exitIndex: Type.Integer({ minimum: 0 }),
  feature: FeatureRef,
  featureShape: Dims,
  threshold: Type.Number(),
  trunkNodeId: Type.String(),
  handedOffAt: Type.Number(),
  task: AnswerContext,
});
export type BranchJobData = Static<typeof BranchJobData>;
export const checkBranchJobData = compileCheck(BranchJobData);

/** A tensor as the Open Inference Protocol v2 carries it (data flat, row-major). */
export const TensorJson = Type.Object({ name: Type.String(), shape: Dims, datatype: Type.String(), data: Type.Array(Type.Number()) });
export type TensorJson = Static<typeof TensorJson>;

/**
 * The answer to a task: the first exit decision in time, from whichever worker made it. The same
 * object is published to the waiting gateway, completes the task's job and is what every client
 * sees (rendered by the gateway as an OIP response).
 */
export const TaskAnswer = Type.Composite([
  Type.Object({
    /** The BullMQ job id of the task. */
    taskId: Type.String(),
    model: Type.String(),
    modelVersion: Type.String(),
    outputs: Type.Array(TensorJson),
    exitIndex: Type.Integer({ minimum: 0 }),
    exitCount: Type.Integer({ minimum: 1 }),
    exitConfidence: Type.Number(),
    exitWorker: StringEnum(EXIT_WORKERS),
    nodeId: Type.String(),
    /** Wall clock (ms) of the exit decision. */
    decidedAt: Type.Number(),
  }),
  // The context the task ran in (its request, plan, queue time and thresholds), less where to reply.
  Type.Omit(AnswerContext, ['replyTo']),
]);
export type TaskAnswer = Static<typeof TaskAnswer>;

/**
 * What travels on a gateway's answer channel: the task's answer (`continuation`: the final exit's
 * answer after an early one, for a progressive request), or why it failed (`inputFault`: the
 * request, not the server, made the task fail, and the gateway answers 422; `deadlineExpired`: the
 * task was taken after its deadline and not run, 504).
 */
export const AnswerMessage = Type.Union([
  Type.Object({ taskId: Type.String(), answer: TaskAnswer, continuation: Type.Optional(Type.Literal(true)), error: Type.Optional(Type.Never()) }),
  Type.Object({
    taskId: Type.String(),
    error: Type.String(),
    inputFault: Type.Optional(Type.Boolean()),
    deadlineExpired: Type.Optional(Type.Boolean()),
    answer: Type.Optional(Type.Never()),
    continuation: Type.Optional(Type.Never()),
  }),
]);
export type AnswerMessage = Static<typeof AnswerMessage>;
export const checkAnswerMessage = compileCheck(AnswerMessage);
