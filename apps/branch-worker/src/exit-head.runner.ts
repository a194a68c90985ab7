import { Inject, Injectable } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { BranchJobData, BranchResult, buildAnswer, checkBranchJobData, elementCount, nowMs } from '@outlet/contracts';
import { checkedPayload } from '@outlet/edge-node';
import { BranchSettings } from '@outlet/config';
import { ModelThread, isConfident, maxProbability, nonFiniteOutputProblem } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { BranchTransport } from './branch-transport.service';
import { BRANCH_ENGINE, BRANCH_PACKAGES, BRANCH_SETTINGS } from './tokens';
import { HeadTimes } from './head-times';

/** Runs one exit-head subjob on the CPU; a confident head answers the task itself. */
@Injectable()
export class ExitHeadRunner {
  constructor(
    @Inject(BRANCH_SETTINGS) private readonly settings: BranchSettings,
    @Inject(BRANCH_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(BRANCH_ENGINE) private readonly engine: ModelThread,
    private readonly transport: BranchTransport,
    private readonly headTimes: HeadTimes,
  ) {}

  async run(job: Job<BranchJobData, BranchResult>): Promise<BranchResult> {
    const d = checkedPayload(() => checkBranchJobData(job.data), `subjob ${job.id}`);
    const pkg = this.packages.get(d.model);
    if (!pkg) throw new UnrecoverableError(`subjob ${job.id}: model '${d.model}' is not served by this branch worker`);
    const m = pkg.manifest;
    if (d.exitIndex >= m.exits.length - 1) throw new UnrecoverableError(`subjob ${job.id}: exit ${d.exitIndex} is not an early exit of ${d.model}`);
    const record = { nodeId: this.settings.nodeId, trunkNodeId: d.trunkNodeId, taskId: d.taskId, exitIndex: d.exitIndex };

    let feature: Float32Array | undefined;
    try {
      feature = await this.transport.takeFeature(d);
    } catch (err) {
      throw new UnrecoverableError(`subjob ${job.id}: ${(err as Error).message}`);
    }
    const handoffMs = nowMs() - d.handedOffAt;
    if (!feature) return { ...record, outcome: 'dropped', handoffMs };
    if (elementCount(d.featureShape) !== feature.length) {
      throw new UnrecoverableError(`subjob ${job.id}: feature of ${feature.length} values does not fit shape ${JSON.stringify(d.featureShape)}`);
    }

    const { probabilities, decidedAt, ranMs } = await this.engine.runExit(m.name, d.exitIndex, { data: feature, dims: d.featureShape });
    // A head whose output is not finite never claims: the subjob fails, naming the exit, and the
    // trunk goes on (its own heads fail the task if they are not finite either).
    const problem = nonFiniteOutputProblem(probabilities, d.exitIndex, m.name);
    if (problem) throw new UnrecoverableError(`subjob ${job.id}: ${problem}`);
    const confidence = maxProbability(probabilities);
    this.headTimes.record(m.name, d.exitIndex, ranMs);
    const base = { ...record, confidence, headMs: ranMs, handoffMs };
    if (!isConfident(probabilities, d.threshold)) return { ...base, outcome: 'continue' };
    const answer = buildAnswer(
      d.taskId,
      { name: m.name, version: m.version, exitCount: m.exits.length, output: m.output },
      d.task,
      this.settings.nodeId,
      { exitIndex: d.exitIndex, probabilities, confidence, worker: 'branch', decidedAt },
    );
    const claim = await this.transport.claim(answer, d.task.replyTo, d.trunkNodeId);
    return { ...base, outcome: claim.won ? 'exit' : 'late' };
  }
}
