import { InferResult, formatPlan } from '@outlet/contracts';
import { argMax } from '@outlet/inference';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Gateway-side moments of a synchronous request (absent for asynchronous jobs). */
export interface GatewayClock {
  receivedAt: number;
  enqueuedAt: number;
  answeredAt: number;
}

/** An Open Inference Protocol v2 response for a finished task; `parameters` tell what happened. */
export function toOipResponse(result: InferResult, totalMs: number, labels?: string[], clock?: GatewayClock) {
  const probabilities = result.outputs[0]?.data ?? [];
  const parameters: Record<string, string | number> = {
    exit_index: result.exitIndex,
    exit_count: result.exitCount,
    exit_confidence: result.exitConfidence,
    exit_worker: result.exitWorker,
    trunk_ep: result.trunkEp,
    plan: formatPlan(result.plan),
    plan_source: result.planSource,
    trunk_segments_run: result.trunkSegmentsRun,
    trunk_segments_wasted: result.segmentsAfterAnswer,
    node_id: result.nodeId,
    task_id: result.taskId,
    queue_ms: round(result.timings.queueMs),
    trunk_ms: round(result.timings.trunkMs),
    branch_ms: round(result.timings.branchMs),
    total_ms: round(totalMs),
  };
  if (clock) {
    parameters.ingress_ms = round(clock.enqueuedAt - clock.receivedAt);
    parameters.egress_ms = round(clock.answeredAt - result.timings.finishedAt);
  }
  if (result.cpuUtil !== undefined) parameters.cpu_util = Math.round(result.cpuUtil * 1000) / 1000;
  if (labels && probabilities.length === labels.length) parameters.label = labels[argMax(probabilities)];
  return {
    model_name: result.model,
    model_version: result.modelVersion,
    id: result.requestId,
    outputs: result.outputs,
    parameters,
  };
}
