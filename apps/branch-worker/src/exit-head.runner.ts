import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import Redis from 'ioredis';
import {
  BranchJobData,
  BranchResult,
  ExitHeadEvent,
  bufferToFloat32,
  earlyExitChannel,
  elementCount,
  nowMs,
  taskDoneKey,
} from '@outlet/contracts';
import { BranchSettings } from '@outlet/config';
import { MultiExitModel, isConfident, maxProbability } from '@outlet/inference';
import { BRANCH_MODELS, BRANCH_SETTINGS } from './tokens';

/** Runs one exit-head subjob on the CPU and tells the node's trunk what the head decided. */
@Injectable()
export class ExitHeadRunner implements OnModuleInit, OnApplicationShutdown {
  private redis: Redis;

  constructor(
    @Inject(BRANCH_SETTINGS) private readonly settings: BranchSettings,
    @Inject(BRANCH_MODELS) private readonly models: Map<string, MultiExitModel>,
  ) {}

  onModuleInit() {
    this.redis = new Redis(this.settings.redisUrl, { maxRetriesPerRequest: null });
  }

  async onApplicationShutdown() {
    await this.redis?.quit().catch(() => undefined);
  }

  async run(job: Job<BranchJobData, BranchResult>): Promise<BranchResult> {
    const d = job.data;
    const model = this.models.get(d?.model);
    if (!model) throw new UnrecoverableError(`subjob ${job.id}: model '${d?.model}' is not served by this branch worker`);
    if (!Number.isInteger(d.exitIndex) || d.exitIndex < 0 || d.exitIndex >= model.manifest.exits.length - 1) {
      throw new UnrecoverableError(`subjob ${job.id}: exit ${d.exitIndex} is not an early exit of ${d.model}`);
    }
    const record = { nodeId: this.settings.nodeId, trunkNodeId: d.trunkNodeId, taskId: d.taskId, exitIndex: d.exitIndex };

    // One round trip: is the task already answered, and the feature.
    const [[, done], [, bytes]] = (await this.redis.multi().get(taskDoneKey(d.taskId)).getBuffer(d.featureKey).del(d.featureKey).exec()) as [
      [Error | null, string | null],
      [Error | null, Buffer | null],
    ];
    const handoffMs = nowMs() - d.handedOffAt;
    if (done) return { ...record, outcome: 'dropped', handoffMs };
    if (!bytes) throw new UnrecoverableError(`subjob ${job.id}: feature ${d.featureKey} is gone (expired?)`);
    const feature = bufferToFloat32(bytes);
    if (!Array.isArray(d.featureShape) || elementCount(d.featureShape) !== feature.length) {
      throw new UnrecoverableError(`subjob ${job.id}: feature of ${feature.length} values does not fit shape ${JSON.stringify(d.featureShape)}`);
    }

    const started = nowMs();
    const probabilities = await model.runExit(d.exitIndex, { data: feature, dims: d.featureShape });
    const decidedAt = nowMs();
    const exited = isConfident(probabilities, d.threshold);
    const confidence = maxProbability(probabilities);
    const event: ExitHeadEvent = {
      taskId: d.taskId,
      exitIndex: d.exitIndex,
      exited,
      confidence,
      probabilities: exited ? Array.from(probabilities) : undefined,
      headMs: decidedAt - started,
      decidedAt,
      branchNodeId: this.settings.nodeId,
    };
    await this.redis.publish(earlyExitChannel(d.trunkNodeId), JSON.stringify(event));
    return { ...record, outcome: exited ? 'exit' : 'continue', confidence, headMs: event.headMs, handoffMs };
  }
}
