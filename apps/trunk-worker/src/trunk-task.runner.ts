import { Inject, Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AnswerContext, InferJobData, TaskAnswer, buildAnswer, checkInferJobData, nowMs } from '@outlet/contracts';
import { checkedPayload } from '@outlet/edge-node';
import { TrunkSettings } from '@outlet/config';
import { ExitDecision, ModelThread, TrunkSteps, nonFiniteOutputProblem, runTrunk } from '@outlet/inference';
import { ModelPackage, exitAfterSegment } from '@outlet/model-package';
import { DeadlineExpiredError, DecodedTask, InvalidJobError, UncomputableInputError, decodeInferJob } from './infer-job';
import { AuditRunner } from './audit-runner.service';
import { LiveThresholdsService } from './live-thresholds.service';
import { PlanSelector } from './plan-selector.service';
import { TrunkTransport } from './trunk-transport.service';
import { TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** A branch answer as the trunk's executor sees it. */
function branchDecision(answer: TaskAnswer): ExitDecision {
  return { exitIndex: answer.exitIndex, probabilities: answer.outputs[0]?.data ?? [], confidence: answer.exitConfidence, worker: 'branch', decidedAt: answer.decidedAt };
}

/** Runs one task's trunk on this node and settles its answer. */
@Injectable()
export class TrunkTaskRunner {
  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    private readonly transport: TrunkTransport,
    private readonly plans: PlanSelector,
    private readonly thresholds: LiveThresholdsService,
    private readonly audits: AuditRunner,
  ) {}

  /** The task's input stays in Redis: the processor removes it once BullMQ has recorded the outcome. */
  async run(job: Job<InferJobData, TaskAnswer>): Promise<TaskAnswer> {
    const startedAt = nowMs();
    const taskId = job.id!;
    const data = checkedPayload(() => checkInferJobData(job.data), `task ${taskId}`);
    const pkg = this.packages.get(data.model);
    if (!pkg) throw new UnrecoverableError(`task ${taskId}: model '${data.model}' is not served by this worker`);
    // Taken too late: its caller has given up (504) or its job is past use; run nothing.
    if (data.deadline !== undefined && startedAt > data.deadline) {
      const lateMs = startedAt - data.deadline;
      this.transport.recordTelemetry(job, {
        segmentsRan: [],
        segmentsAfterAnswer: 0,
        handOffs: 0,
        trunkMs: 0,
        trunkStoppedAt: startedAt,
        decidedAt: startedAt,
        eventLoopDelayMaxMs: 0,
        deadlineExpiredMs: lateMs,
      });
      throw new DeadlineExpiredError(`task ${taskId}: its deadline (parameters.timeout) passed ${lateMs.toFixed(1)} ms before a trunk worker took it; not run`);
    }
    const live = this.thresholds.current(pkg.manifest.name);
    let task: DecodedTask;
    try {
      task = decodeInferJob(taskId, data, pkg.manifest, await this.transport.readInput(data.input.key), live.thresholds);
    } catch (err) {
      // A malformed job fails alone (no retry); the worker goes on serving.
      if (err instanceof InvalidJobError) throw new UnrecoverableError(err.message);
      throw err;
    }
    const m = pkg.manifest;
    const choice = task.plan === 'auto' ? this.plans.choose(m.name) : undefined;
    const plan = choice ? choice.plan : (task.plan as Exclude<DecodedTask['plan'], 'auto'>);
    const context: AnswerContext = {
      requestId: data.requestId,
      replyTo: data.replyTo,
      trunkEp: this.engine.ep,
      plan,
      planSource: choice ? 'auto' : data.planSource,
      cpuUtil: choice?.cpuUtil,
      planObjective: choice?.objective,
      queueMs: startedAt - data.enqueuedAt,
      thresholdVersion: live.version,
    };

    // A branch answer published for this task stops the trunk before its next segment.
    let heard: TaskAnswer | undefined;
    this.transport.listen(taskId, (answer) => (heard ??= answer));
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const handedOff: number[] = [];
    /** Subjobs queued: a feature written after the task was answered gets none (its exit is moot). */
    let subjobs = 0;
    const steps: TrunkSteps = {
      segmentCount: m.segments.length,
      exitAfterSegment: (s) => exitAfterSegment(m, s),
      finalExit: m.exits.length - 1,
      runSegment: async (segment, { withExit, handOffExit }) => {
        const file = handOffExit === undefined ? undefined : this.transport.featureFile(taskId, handOffExit);
        if (handOffExit !== undefined) handedOff.push(handOffExit);
        const result = await this.engine.runSegment({
          model: m.name,
          taskId,
          segment,
          input: segment === 0 ? { data: task.input, dims: task.shape } : undefined,
          withExit,
          handOff: handOffExit === undefined ? undefined : { file: file?.path },
        });
        this.plans.observeSegment(m.name, segment, withExit, result.ranMs);
        // A head whose output is not finite fails the task (naming the exit): never answered as nulls.
        const problem = withExit && result.probabilities ? nonFiniteOutputProblem(result.probabilities, steps.exitAfterSegment(segment)!, m.name) : undefined;
        if (problem) throw new UncomputableInputError(`task ${taskId}: ${problem}`);
        // No subjob once the task is answered: it would only be dropped.
        if (handOffExit !== undefined && !heard) {
          subjobs++;
          this.transport.handOff(
            { taskId, model: m.name, exitIndex: handOffExit, featureShape: m.segments[segment].output_shape.map((d) => (d === -1 ? 1 : d)), threshold: task.thresholds[handOffExit], task: context },
            file ? { file: file.name } : { values: result.feature!.data },
          );
        }
        return result;
      },
    };

    let outcome;
    let answer: TaskAnswer;
    try {
      outcome = await runTrunk(steps, plan, task.thresholds, { earlyExit: () => (heard ? branchDecision(heard) : undefined) });
      if (outcome.decision.worker === 'branch' && heard) {
        answer = heard;
      } else {
        // The trunk's own decision becomes the answer unless a branch claimed the task first.
        const mine = buildAnswer(taskId, { name: m.name, version: m.version, exitCount: m.exits.length, output: m.output }, context, this.settings.nodeId, outcome.decision);
        answer = (await this.transport.claim(mine, context.replyTo)).answer;
      }
    } finally {
      // After the claim: the answer is on its way before the clean-up.
      this.transport.stopListening(taskId);
      this.engine.endTask(taskId);
      this.transport.releaseFeatures(taskId, handedOff);
      loopDelay.disable();
    }
    this.transport.recordTelemetry(job, {
      segmentsRan: outcome.segmentsRan,
      segmentsAfterAnswer: outcome.segmentStarts.filter((t) => t > answer.decidedAt).length,
      // The subjobs queued, which the branch counts as run or dropped: not every feature written.
      handOffs: subjobs,
      trunkMs: outcome.trunkStoppedAt - startedAt,
      trunkStoppedAt: outcome.trunkStoppedAt,
      decidedAt: answer.decidedAt,
      abortReactionMs: outcome.abortReactionMs,
      eventLoopDelayMaxMs: loopDelay.max / 1e6,
    }, answer);
    // After the answer has left: a progressive request answered early, and a sample of all tasks,
    // run on to the final exit behind answering work (the audit).
    const progressive = data.progressive === true && context.replyTo !== undefined && answer.exitIndex < m.exits.length - 1;
    // The tuner moves the fleet's audit rate; without one (OUTLET_ADAPT=off) this node's setting holds.
    const auditRate = this.settings.adapt ? live.auditRate : this.settings.auditRate;
    if (progressive || Math.random() < auditRate) {
      this.audits.submit({ taskId, model: m.name, input: task.input, shape: task.shape, answer, progressive: progressive ? { replyTo: context.replyTo!, context } : undefined });
    }
    return answer;
  }
}
