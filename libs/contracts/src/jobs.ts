import { Placement } from './plan';

/** A tensor as the Open Inference Protocol v2 carries it (data flat, row-major). */
export interface TensorJson {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

/**
 * A task's input tensor as its job names it: the values wait beside the job as one binary Redis
 * value (raw little-endian FP32 at `key`), so the job itself stays small on every queue hop.
 */
export interface TaskInput {
  name: string;
  shape: number[];
  datatype: 'FP32';
  key: string;
}

/** Payload of one task in a model's inference queue. */
export interface InferJobData {
  model: string;
  /** The client's request id (OIP `id`), echoed in the answer. */
  requestId: string;
  input: TaskInput;
  /** `serial` | `parallel` | `full` | `auto` | comma list; validated by the gateway. */
  plan: string;
  /** Where the plan came from: the request, or the gateway's default. */
  planSource: 'request' | 'default';
  /** Overrides every early exit's threshold when set. */
  threshold?: number;
  /** Wall clock (ms, sub-ms precision) when the gateway enqueued the task. */
  enqueuedAt: number;
  /** Wall clock (ms) after which the task is not run (the request's `timeout` from its receipt). */
  deadline?: number;
  /** Set by a gateway waiting synchronously: the answer (or failure) is published on answerChannel(replyTo). */
  replyTo?: string;
  /** A progressive request (with replyTo): after an early answer, the final exit's answer is published too. */
  progressive?: boolean;
}

/**
 * The answer to a task: the first exit decision in time, from whichever worker made it. The same
 * object is published to the waiting gateway, completes the task's job and is what every client
 * sees (rendered by the gateway as an OIP response).
 */
export interface TaskAnswer {
  /** The BullMQ job id of the task. */
  taskId: string;
  model: string;
  modelVersion: string;
  requestId: string;
  outputs: TensorJson[];
  exitIndex: number;
  exitCount: number;
  exitConfidence: number;
  exitWorker: 'branch' | 'trunk';
  nodeId: string;
  trunkEp: string;
  plan: Placement[];
  planSource: 'request' | 'default' | 'auto';
  /** CPU utilization the node saw when choosing an `auto` plan. */
  cpuUtil?: number;
  /** What an `auto` plan was chosen for: latency (no backlog) or throughput (tasks waiting). */
  planObjective?: 'latency' | 'throughput';
  /** From the gateway's enqueue to the trunk taking the task. */
  queueMs: number;
  /** The version of the model's live exit thresholds the task ran with (1: the offline calibration). */
  thresholdVersion: number;
  /** Wall clock (ms) of the exit decision. */
  decidedAt: number;
}

/** What travels on a gateway's answer channel: the task's answer, or why it failed. */
export type AnswerMessage =
  /** `continuation`: the final exit's answer, after an early one, for a progressive request. */
  | { taskId: string; answer: TaskAnswer; continuation?: true; error?: undefined }
  /**
   * `inputFault`: the request, not the server, made the task fail (the gateway answers 422);
   * `deadlineExpired`: the task was taken after its deadline and not run (504).
   */
  | { taskId: string; error: string; inputFault?: boolean; deadlineExpired?: boolean; answer?: undefined; continuation?: undefined };

/**
 * The trunk worker's own record of a task, for benchmarks and operators (a log line of the task's
 * job); never part of the answer.
 */
export interface TrunkTelemetry {
  /** Segment indices the trunk ran, in order. */
  segmentsRan: number[];
  /** Segments started after the answer had been decided (wasted by a late stop). */
  segmentsAfterAnswer: number;
  /** Exit-head subjobs queued for the branch worker (none for a feature written after the task was answered). */
  handOffs: number;
  /** From taking the task to the trunk stopping. */
  trunkMs: number;
  trunkStoppedAt: number;
  /** The answer's decision time (for a task never started: when it was dropped). */
  decidedAt: number;
  /** For a branch answer: the trunk's stop time beyond the work it had in flight when the branch decided. */
  abortReactionMs?: number;
  /** The worst delay of the trunk worker's event loop while this task ran. */
  eventLoopDelayMaxMs: number;
  /** Set when the task was taken after its deadline and never started (segmentsRan []): ms past it. */
  deadlineExpiredMs?: number;
}

/** Where a handed-off feature waits for the branch worker: a file in the node's shared memory, or a Redis value. */
export type FeatureRef = { transport: 'shm'; file: string } | { transport: 'redis'; key: string };
export const FEATURE_TRANSPORTS = ['shm', 'redis'] as const;
export type FeatureTransport = (typeof FEATURE_TRANSPORTS)[number];

/** What a branch worker needs besides the feature to answer a task itself. */
export interface AnswerContext {
  requestId: string;
  replyTo?: string;
  trunkEp: string;
  plan: Placement[];
  planSource: TaskAnswer['planSource'];
  cpuUtil?: number;
  planObjective?: TaskAnswer['planObjective'];
  queueMs: number;
  thresholdVersion: number;
}

/** Payload of one exit-head subjob in a node's branch queue. */
export interface BranchJobData {
  taskId: string;
  model: string;
  exitIndex: number;
  feature: FeatureRef;
  featureShape: number[];
  threshold: number;
  trunkNodeId: string;
  handedOffAt: number;
  task: AnswerContext;
}

/** What a branch worker completes a subjob with: its own record of what it did. */
export interface BranchResult {
  nodeId: string;
  trunkNodeId: string;
  taskId: string;
  exitIndex: number;
  /**
   * `dropped`: the task already had its answer, the head did not run; `exit`: the head answered
   * the task; `late`: it was confident but another decision had answered first; `continue`: not confident.
   */
  outcome: 'exit' | 'late' | 'continue' | 'dropped';
  confidence?: number;
  headMs?: number;
  /** Time from the trunk's hand-off to the feature being read here. */
  handoffMs?: number;
}
