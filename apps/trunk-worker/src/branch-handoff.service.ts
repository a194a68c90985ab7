import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { BranchJobData, HANDOFF_TTL_MS, InferResult, JobName, answerChannel, featureKey, float32ToBuffer, nowMs, taskDoneKey } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { Feature } from '@outlet/inference';

/**
 * Hands features to this node's branch queue: the feature as a binary Redis value with a TTL,
 * the subjob as a small BullMQ job that points at it. Never across nodes.
 */
export class BranchHandOff implements OnApplicationShutdown {
  private readonly logger = new Logger(BranchHandOff.name);
  private readonly redis: Redis;

  constructor(
    private readonly settings: TrunkSettings,
    /** This node's branch queue (registered with BullModule; its name holds the NODE_ID). */
    private readonly queue: Queue<BranchJobData>,
  ) {
    this.redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  }

  /**
   * Store the feature (one Redis round trip), then add the subjob without waiting for it: the
   * trunk goes on at once. A failure is logged; the final exit still answers.
   */
  async send(taskId: string, model: string, exitIndex: number, feature: Feature, threshold: number): Promise<void> {
    const key = featureKey(taskId, exitIndex);
    const data: BranchJobData = {
      taskId,
      model,
      exitIndex,
      featureKey: key,
      featureShape: feature.dims,
      threshold,
      trunkNodeId: this.settings.nodeId,
      handedOffAt: nowMs(),
    };
    const warn = (err: Error) => this.logger.warn(`hand-off of ${taskId} exit ${exitIndex} failed: ${err.message}`);
    try {
      await this.redis.set(key, float32ToBuffer(feature.data), 'PX', HANDOFF_TTL_MS);
    } catch (err) {
      return warn(err as Error);
    }
    // The job is written to Redis on the trunk's next turn of the event loop (before its next segment).
    this.queue
      .add(JobName.ExitHead, data, {
        removeOnComplete: { count: this.settings.jobRetention },
        removeOnFail: { count: this.settings.jobRetention },
      })
      .catch(warn);
  }

  /** Hand a finished task's answer to the gateway waiting for it (fire and forget). */
  publishAnswer(gatewayId: string, result: InferResult): void {
    this.redis.publish(answerChannel(gatewayId), JSON.stringify(result)).catch((err) => this.logger.warn(`answer of ${result.taskId}: ${err.message}`));
  }

  /** Mark a task answered: its branch subjobs still queued are dropped, not run. */
  markDone(taskId: string): void {
    this.redis.set(taskDoneKey(taskId), '1', 'PX', HANDOFF_TTL_MS).catch(() => undefined);
  }

  async onApplicationShutdown() {
    await this.redis.quit().catch(() => undefined);
  }
}
