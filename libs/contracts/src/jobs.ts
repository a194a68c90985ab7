import { Placement } from './plan';

/** A tensor as the Open Inference Protocol v2 carries it (data flat, row-major). */
export interface TensorJson {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

/** A tensor inside a job: the same, with FP32 data as base64 so jobs stay small. */
export interface TensorWire {
  name: string;
  shape: number[];
  datatype: 'FP32';
  dataBase64: string;
}

/** Payload of one task in a model's inference queue. */
export interface InferJobData {
  model: string;
  /** The client's request id (OIP `id`), echoed in the answer. */
  requestId: string;
  input: TensorWire;
  /** `serial` | `parallel` | `full` | `auto` | comma list; validated by the gateway. */
  plan: string;
  /** Where the plan came from: the request, or the gateway's default. */
  planSource: 'request' | 'default';
  /** Overrides every early exit's threshold when set. */
  threshold?: number;
  /** Wall clock (ms, sub-ms precision) when the gateway enqueued the task. */
  enqueuedAt: number;
  /** Set by a gateway waiting synchronously: publish the answer on answerChannel(replyTo). */
  replyTo?: string;
}

export interface StageTimings {
  queueMs: number;
  trunkMs: number;
  branchMs: number;
  /** Wall clock (ms) when the trunk worker had the answer ready to hand back. */
  finishedAt: number;
}

/** What a trunk worker completes a task with. */
export interface InferResult {
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
  trunkEp: string;
  plan: Placement[];
  planSource: 'request' | 'default' | 'auto';
  /** CPU utilization the node saw when choosing an `auto` plan. */
  cpuUtil?: number;
  trunkSegmentsRun: number;
  /** Segment indices this worker actually ran, in order: the worker's own record. */
  segmentsRan: number[];
  /** Trunk segments that ran after the answer was already decided elsewhere (wasted work). */
  segmentsAfterAnswer: number;
  nodeId: string;
  timings: StageTimings;
  /** Wall clock (ms) of the exit decision, and of the trunk stopping. */
  decidedAt: number;
  trunkStoppedAt: number;
  /** For a branch answer: the trunk's stop time beyond the work it had in flight at the decision. */
  abortReactionMs?: number;
}

/** Payload of one exit-head subjob in a node's branch queue. */
export interface BranchJobData {
  taskId: string;
  model: string;
  exitIndex: number;
  /** Redis key holding the feature as raw little-endian FP32 bytes. */
  featureKey: string;
  featureShape: number[];
  threshold: number;
  trunkNodeId: string;
  handedOffAt: number;
}

/** What a branch worker completes a subjob with: its own record of what it did. */
export interface BranchResult {
  nodeId: string;
  trunkNodeId: string;
  taskId: string;
  exitIndex: number;
  /** `dropped`: the task already had its answer, the head did not run. */
  outcome: 'exit' | 'continue' | 'dropped';
  confidence?: number;
  headMs?: number;
  /** Time from the trunk's hand-off to the feature being read here. */
  handoffMs?: number;
}

/** Published by a branch worker after running a head (pub/sub, to its own node's trunk). */
export interface ExitHeadEvent {
  taskId: string;
  exitIndex: number;
  exited: boolean;
  confidence: number;
  /** Present when `exited`: the head's softmax output. */
  probabilities?: number[];
  headMs: number;
  decidedAt: number;
  branchNodeId: string;
}
