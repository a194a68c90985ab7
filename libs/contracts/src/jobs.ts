import { Placement } from './plan';
import { AnswerContext } from './schema/jobs';

export * from './schema/jobs';

/** A tensor as the Open Inference Protocol v2 carries it (data flat, row-major). */
export interface TensorJson {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
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
