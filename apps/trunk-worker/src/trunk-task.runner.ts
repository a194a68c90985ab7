import { Inject, Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  InferJobData,
  InferResult,
  PlanError,
  base64ToFloat32,
  elementCount,
  nowMs,
  parsePlan,
} from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ExitDecision, MultiExitModel, runTrunk } from '@outlet/inference';
import { earlyExitCount } from '@outlet/model-package';
import { EarlyExitInbox } from './early-exit-inbox.service';
import { BranchHandOff } from './branch-handoff.service';
import { PlanSelector } from './plan-selector.service';
import { TRUNK_MODELS, TRUNK_SETTINGS } from './tokens';

/** Runs one task's trunk on this node and builds its answer. */
@Injectable()
export class TrunkTaskRunner {
  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_MODELS) private readonly models: Map<string, MultiExitModel>,
    private readonly inbox: EarlyExitInbox,
    private readonly handOff: BranchHandOff,
    private readonly plans: PlanSelector,
  ) {}

  async run(job: Job<InferJobData, InferResult>): Promise<InferResult> {
    const startedAt = nowMs();
    const taskId = job.id!;
    const data = job.data;
    // A malformed job fails alone (no retry); the worker goes on serving.
    const model = this.models.get(data?.model);
    if (!model) throw new UnrecoverableError(`task ${taskId}: model '${data?.model}' is not served by this worker`);
    const m = model.manifest;
    let input: Float32Array;
    try {
      input = base64ToFloat32(data.input.dataBase64);
    } catch (err) {
      throw new UnrecoverableError(`task ${taskId}: input is not base64 FP32: ${(err as Error).message}`);
    }
    const shape = data.input.shape;
    const expected = m.input.shape;
    if (
      !Array.isArray(shape) ||
      shape.length !== expected.length ||
      shape.some((d, i) => d !== (expected[i] === -1 ? 1 : expected[i])) ||
      elementCount(shape) !== input.length
    ) {
      throw new UnrecoverableError(`task ${taskId}: input shape ${JSON.stringify(shape)} with ${input.length} values does not fit [${expected}]`);
    }

    const choice = data.plan === 'auto' ? this.plans.choose(m.name) : undefined;
    let plan;
    try {
      plan = choice ? choice.plan : parsePlan(String(data.plan), earlyExitCount(m));
    } catch (err) {
      if (err instanceof PlanError) throw new UnrecoverableError(`task ${taskId}: ${err.message}`);
      throw err;
    }
    const thresholds = m.exits.map((e) => data.threshold ?? e.threshold);

    this.inbox.open(taskId);
    let outcome;
    try {
      outcome = await runTrunk(model, { data: input, dims: shape }, plan, thresholds, {
        handOff: (exitIndex, feature) => this.handOff.send(taskId, m.name, exitIndex, feature, thresholds[exitIndex]),
        pollEarlyExit: async () => {
          // session.run() holds the event loop; one turn lets pending pub/sub messages in.
          await yieldToEventLoop();
          const event = this.inbox.firstExit(taskId);
          if (!event?.probabilities) return undefined;
          const decision: ExitDecision = {
            exitIndex: event.exitIndex,
            probabilities: event.probabilities,
            confidence: event.confidence,
            worker: 'branch',
            decidedAt: event.decidedAt,
          };
          return decision;
        },
      });
    } finally {
      if (plan.includes('branch')) this.handOff.markDone(taskId);
    }
    const branchMs = this.inbox.close(taskId);
    const { decision } = outcome;
    const finishedAt = nowMs();
    const result: InferResult = {
      taskId,
      model: m.name,
      modelVersion: m.version,
      requestId: data.requestId,
      outputs: [
        {
          name: m.output.name,
          datatype: m.output.datatype,
          shape: [1, decision.probabilities.length],
          data: Array.from(decision.probabilities),
        },
      ],
      exitIndex: decision.exitIndex,
      exitCount: m.exits.length,
      exitConfidence: decision.confidence,
      exitWorker: decision.worker,
      trunkEp: model.ep,
      plan,
      planSource: choice ? 'auto' : data.planSource,
      cpuUtil: choice?.cpuUtil,
      trunkSegmentsRun: outcome.segmentsRan.length,
      segmentsRan: outcome.segmentsRan,
      segmentsAfterAnswer: outcome.segmentsAfterAnswer,
      nodeId: this.settings.nodeId,
      timings: { queueMs: startedAt - data.enqueuedAt, trunkMs: finishedAt - startedAt, branchMs, finishedAt },
      decidedAt: decision.decidedAt,
      trunkStoppedAt: outcome.trunkStoppedAt,
      abortReactionMs: outcome.abortReactionMs,
    };
    // The waiting gateway hears the answer now; BullMQ's completion record follows.
    if (typeof data.replyTo === 'string') this.handOff.publishAnswer(data.replyTo, result);
    return result;
  }
}
