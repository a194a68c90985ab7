import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { BranchJobData, BranchResult, TaskAnswer, answerChannel, answerKey, bufferToFloat32, earlyExitChannel } from '@outlet/contracts';
import { BranchSettings } from '@outlet/config';
import { ClaimResult, InjectRedis, claimAnswer, countStats, featureFilePath, msToNs, nodeFeatureDir, takeFeatureFile } from '@outlet/transport';
import { ModelPackage } from '@outlet/model-package';
import { BRANCH_PACKAGES, BRANCH_SETTINGS } from './tokens';

/**
 * Everything the branch worker reads from and says to the rest of the system: the handed-off
 * feature (shared-memory file or Redis value), and a confident head's answer, claimed for the task
 * and published to the waiting gateway and to the node's trunk in one step.
 */
@Injectable()
export class BranchTransport {
  private readonly featureDir?: string;

  constructor(
    @Inject(BRANCH_SETTINGS) private readonly settings: BranchSettings,
    @InjectRedis() private readonly redis: Redis,
    @Inject(BRANCH_PACKAGES) private readonly packages: Map<string, ModelPackage>,
  ) {
    // Folders are per node; a subjob names its file, and the folder is this node's own.
    this.featureDir = nodeFeatureDir(settings.featureRoot, settings.nodeId);
  }

  /**
   * The subjob's feature, taken (read and removed). Undefined when the task is already answered: a
   * trunk removes its task's feature files when the task ends, and a Redis value is checked
   * against the task's answer key in the same round trip.
   */
  async takeFeature(d: BranchJobData): Promise<Float32Array | undefined> {
    if (d.feature?.transport === 'shm') return takeFeatureFile(featureFilePath(this.featureDir!, d.feature.file));
    if (d.feature?.transport === 'redis' && typeof d.feature.key === 'string') {
      const [[, answered], [, bytes]] = (await this.redis.multi().exists(answerKey(d.taskId)).getBuffer(d.feature.key).del(d.feature.key).exec()) as [
        [Error | null, number],
        [Error | null, Buffer | null],
      ];
      return answered || !bytes ? undefined : bufferToFloat32(bytes);
    }
    throw new Error(`feature ${JSON.stringify(d.feature)} is neither a shared-memory file nor a Redis key`);
  }

  /** A finished subjob in the fleet-wide statistics (run or dropped, outcome, hand-off time); not awaited. */
  countSubjob(d: BranchJobData, result: BranchResult): void {
    const version = this.packages.get(d?.model)?.manifest.version;
    if (version === undefined) return;
    const increments: Record<string, number> = { [result.outcome === 'dropped' ? 'branch:dropped' : 'branch:run']: 1, [`branch:${result.outcome}`]: 1 };
    if (typeof result.handoffMs === 'number') {
      increments.handoff_count = 1;
      increments.handoff_ns = msToNs(result.handoffMs);
    }
    countStats(this.redis, d.model, version, increments);
  }

  /** Offer a confident head's answer; on a win the gateway and the trunk hear it at once. */
  claim(answer: TaskAnswer, replyTo: string | undefined, trunkNodeId: string): Promise<ClaimResult> {
    const channels = [earlyExitChannel(trunkNodeId)];
    if (replyTo) channels.unshift(answerChannel(replyTo));
    return claimAnswer(this.redis, answer, channels);
  }
}
