import { AnswerParameters, InferResponse, TaskAnswer, formatPlan } from '@outlet/contracts';
import { argMax } from '@outlet/inference';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Gateway-side moments of a synchronous request (absent for asynchronous jobs). */
export interface GatewayClock {
  receivedAt: number;
  enqueuedAt: number;
  answeredAt: number;
}

/** An Open Inference Protocol v2 response for an answered task (InferResponse); `parameters` tell how it was answered. */
export function toOipResponse(answer: TaskAnswer, totalMs: number, labels?: string[], clock?: GatewayClock) {
  const probabilities = answer.outputs[0]?.data ?? [];
  const parameters: AnswerParameters = {
    exit_index: answer.exitIndex,
    exit_count: answer.exitCount,
    exit_confidence: answer.exitConfidence,
    exit_worker: answer.exitWorker,
    trunk_ep: answer.trunkEp,
    plan: formatPlan(answer.plan),
    plan_source: answer.planSource,
    node_id: answer.nodeId,
    task_id: answer.taskId,
    queue_ms: round(answer.queueMs),
    total_ms: round(totalMs),
    threshold_version: answer.thresholdVersion,
  };
  if (clock) {
    parameters.ingress_ms = round(clock.enqueuedAt - clock.receivedAt);
    // From the exit decision (in whichever worker) to the answer in this gateway.
    parameters.delivery_ms = round(clock.answeredAt - answer.decidedAt);
  }
  if (answer.cpuUtil !== undefined) parameters.cpu_util = Math.round(answer.cpuUtil * 1000) / 1000;
  if (answer.planObjective) parameters.plan_objective = answer.planObjective;
  if (labels && probabilities.length === labels.length) parameters.label = labels[argMax(probabilities)];
  return {
    model_name: answer.model,
    model_version: answer.modelVersion,
    id: answer.requestId,
    outputs: answer.outputs,
    parameters,
  } satisfies InferResponse;
}

export type OipResponse = ReturnType<typeof toOipResponse>;
