import { AnswerContext, TaskAnswer } from './jobs';

/** One exit's decision, as the worker that made it saw it. */
export interface DecisionLike {
  exitIndex: number;
  probabilities: ArrayLike<number>;
  confidence: number;
  worker: 'branch' | 'trunk';
  decidedAt: number;
}

/** What an answer says about the model (from its manifest). */
export interface AnswerModel {
  name: string;
  version: string;
  exitCount: number;
  output: { name: string; datatype: string };
}

/** The answer a decision makes for a task: the same shape whichever worker decided. */
export function buildAnswer(taskId: string, model: AnswerModel, task: AnswerContext, nodeId: string, decision: DecisionLike): TaskAnswer {
  return {
    taskId,
    model: model.name,
    modelVersion: model.version,
    requestId: task.requestId,
    outputs: [{ name: model.output.name, datatype: model.output.datatype, shape: [1, decision.probabilities.length], data: Array.from(decision.probabilities) }],
    exitIndex: decision.exitIndex,
    exitCount: model.exitCount,
    exitConfidence: decision.confidence,
    exitWorker: decision.worker,
    nodeId,
    trunkEp: task.trunkEp,
    plan: task.plan,
    planSource: task.planSource,
    cpuUtil: task.cpuUtil,
    ...(task.planObjective ? { planObjective: task.planObjective } : {}),
    queueMs: task.queueMs,
    thresholdVersion: task.thresholdVersion,
    decidedAt: decision.decidedAt,
  };
}
