import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { hostname } from 'node:os';
import {
  BranchWorkerBeat,
  isInputKey,
  AnswerMessage,
  BranchJobData,
  HANDOFF_TTL_MS,
  JobName,
  TaskAnswer,
  TrunkTelemetry,
  answerChannel,
  branchWorkersKey,
  bufferToFloat32,
  earlyExitChannel,
  featureKey,
  float32ToBuffer,
  heartbeatLifetimeMs,
  nowMs,
  parseBranchWorkerBeat,
} from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ClaimResult, InjectRedis, claimAnswer, duplicateConnection, countStats, exitField, featureFileName, msToNs, nodeFeatureDir, parseAnswerMessage, removeFile, sweepFeatureFiles } from '@outlet/transport';
import { TRUNK_SETTINGS } from './tokens';

export const BRANCH_QUEUE = Symbol('BRANCH_QUEUE');
/** The inference queues this worker takes tasks from, by model. */
export const INFER_QUEUES = Symbol('INFER_QUEUES');

/** A feature handed off: the name of its shared-memory file, or its values for Redis. */
export type HandedFeature = { file: string } | { values: Float32Array };

/**
 * Everything the trunk worker says to and hears from the rest of the system, besides taking its
 * BullMQ jobs: hand-offs (feature + subjob on this node's branch queue), branch answers heard on
 * the node's channel, the task's answer (claimed in Redis and published to the waiting gateway),
 * failures, telemetry and the clean-up of feature files.
 */
@Injectable()
export class TrunkTransport implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TrunkTransport.name);
  private readonly listeners = new Map<string, (answer: TaskAnswer) => void>();
  private subscriber?: Redis;
  private sweeper?: NodeJS.Timeout;
  /** This node's shared-memory feature folder (when features travel that way). */
  readonly featureDir?: string;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @InjectRedis() private readonly redis: Redis,
    @Inject(BRANCH_QUEUE) private readonly branchQueue: Queue<BranchJobData>,
    @Inject(INFER_QUEUES) private readonly inferQueues: Map<string, Queue>,
  ) {
    if (settings.featureTransport === 'shm') this.featureDir = nodeFeatureDir(settings.featureRoot, settings.nodeId);
  }

  async onModuleInit() {
    this.subscriber = duplicateConnection(this.redis, 'early-exit subscriber');
    this.subscriber.on('message', (_channel, text: string) => {
      const message = parseAnswerMessage(text);
      if (message?.answer) this.listeners.get(message.taskId)?.(message.answer);
    });
    await this.subscriber.subscribe(earlyExitChannel(this.settings.nodeId));
    if (this.featureDir) {
      const dir = this.featureDir;
      // Files older than any subjob's lifetime were left by a crash: remove them now and then.
      const sweep = () => {
        const removed = sweepFeatureFiles(dir, HANDOFF_TTL_MS);
        if (removed) this.logger.warn(`removed ${removed} stale feature file(s) from ${dir}`);
      };
      sweep();
      this.sweeper = setInterval(sweep, HANDOFF_TTL_MS / 4).unref();
    }
  }

  async onApplicationShutdown() {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** Hear the branch answer of a task (the first one published), until `stopListening`. */
  listen(taskId: string, onAnswer: (answer: TaskAnswer) => void): void {
    this.listeners.set(taskId, onAnswer);
  }

  stopListening(taskId: string): void {
    this.listeners.delete(taskId);
  }

  /** Where a task's feature for an early exit goes in shared memory; undefined when features travel by Redis. */
  featureFile(taskId: string, exitIndex: number): { name: string; path: string } | undefined {
    if (!this.featureDir) return undefined;
    const name = featureFileName(taskId, exitIndex);
    return { name, path: `${this.featureDir}/${name}` };
  }

  /**
   * Queue an exit-head subjob on this node's branch queue (by Redis, after storing its feature).
   * Not awaited by the trunk: a failure is logged and the final exit still answers.
   */
  handOff(data: Omit<BranchJobData, 'feature' | 'handedOffAt' | 'trunkNodeId'>, feature: HandedFeature): void {
    const warn = (err: Error) => this.logger.warn(`hand-off of ${data.taskId} exit ${data.exitIndex} failed: ${err.message}`);
    const addSubjob = (ref: BranchJobData['feature']) =>
      this.branchQueue.add(
        JobName.ExitHead,
        { ...data, feature: ref, trunkNodeId: this.settings.nodeId, handedOffAt: nowMs() },
        { removeOnComplete: { count: this.settings.jobRetention }, removeOnFail: { count: this.settings.jobRetention } },
      );
    if ('file' in feature) {
      addSubjob({ transport: 'shm', file: feature.file }).catch(warn);
      return;
    }
    const key = featureKey(data.taskId, data.exitIndex);
    // The value first: the subjob must never be taken before its feature is there.
    this.redis
      .set(key, float32ToBuffer(feature.values), 'PX', HANDOFF_TTL_MS)
      .then(() => addSubjob({ transport: 'redis', key }))
      .catch(warn);
  }

  /** Offer the trunk's own decision as the task's answer; a branch answer that came first wins. */
  claim(answer: TaskAnswer, replyTo: string | undefined): Promise<ClaimResult> {
    return claimAnswer(this.redis, answer, replyTo ? [answerChannel(replyTo)] : []);
  }

  /** A task's input values, as the gateway stored them beside its job; undefined when gone or not FP32. */
  async readInput(key: unknown): Promise<Float32Array | undefined> {
    if (!isInputKey(key)) return undefined;
    const bytes = await this.redis.getBuffer(key);
    if (!bytes || bytes.byteLength % 4 !== 0) return undefined;
    return bufferToFloat32(bytes);
  }

  /** The task is settled: its input is not needed again (kept until then, for a re-run after a crash). */
  releaseInput(key: string): void {
    this.redis.del(key).catch(() => undefined);
  }

  /** This node's live branch workers on this host (their heartbeats are in Redis), by pid. */
  async branchWorkers(): Promise<{ pid: number; beat: BranchWorkerBeat }[]> {
    const entries = await this.redis.hgetall(branchWorkersKey(this.settings.nodeId));
    const host = hostname();
    const now = Date.now();
    const live = Object.entries(entries)
      .map(([who, text]) => ({ who, beat: parseBranchWorkerBeat(text) }))
      .filter(({ who, beat }) => who.startsWith(`${host}:`) && beat !== undefined && now - beat.at < heartbeatLifetimeMs(beat.heartbeatMs));
    return live.map(({ who, beat }) => ({ pid: Number(who.slice(host.length + 1)), beat: beat! }));
  }


  /** Tasks waiting in a model's queue (the trunk's backlog; every task has a priority, so most are 'prioritized'). */
  async waitingTasks(model: string): Promise<number> {
    return (await this.inferQueues.get(model)?.count()) ?? 0;
  }

  /** Hand a progressive request's final-exit answer to its gateway (after the early answer it already has). */
  publishContinuation(replyTo: string, answer: TaskAnswer): void {
    const message: AnswerMessage = { taskId: answer.taskId, answer, continuation: true };
    this.redis.publish(answerChannel(replyTo), JSON.stringify(message)).catch((err) => this.logger.warn(`final answer of ${answer.taskId}: ${err.message}`));
  }

  /** Tell a waiting gateway that its task failed (the job's failure is recorded by BullMQ). */
  publishFailure(replyTo: string, taskId: string, error: string, why: { inputFault: boolean; deadlineExpired: boolean }): void {
    const message: AnswerMessage = { taskId, error, ...(why.inputFault ? { inputFault: true } : {}), ...(why.deadlineExpired ? { deadlineExpired: true } : {}) };
    this.redis.publish(answerChannel(replyTo), JSON.stringify(message)).catch((err) => this.logger.warn(`failure of ${taskId}: ${err.message}`));
  }

  /** The trunk's own record of the task, as a log line of its job (Bull Board shows it). */
  recordTelemetry(job: Job, telemetry: TrunkTelemetry, answer?: TaskAnswer): void {
    job.log(JSON.stringify(telemetry)).catch(() => undefined);
    if (answer) this.countTask(job, telemetry, answer);
  }

  /**
   * The settled task in the fleet-wide statistics (statistics extension, /metrics): one pipelined
   * HINCRBY batch, after the answer went out, not awaited.
   */
  private countTask(job: Job, telemetry: TrunkTelemetry, answer: TaskAnswer): void {
    const takenAt = Number(job.data?.enqueuedAt) + answer.queueMs;
    const increments: Record<string, number> = {
      inference_count: 1,
      execution_count: 1,
      queue_count: 1,
      queue_ns: msToNs(answer.queueMs),
      compute_infer_count: 1,
      compute_infer_ns: msToNs(answer.decidedAt - takenAt),
      [exitField(answer.exitIndex, answer.exitWorker)]: 1,
      segments_run: telemetry.segmentsRan.length,
      segments_wasted: telemetry.segmentsAfterAnswer,
      hand_offs: telemetry.handOffs,
    };
    if (typeof job.data?.replyTo !== 'string') {
      // Nobody waits on this task at a gateway: its success is counted here (enqueue → decision).
      increments.async_success_count = 1;
      increments.async_success_ns = msToNs(answer.decidedAt - Number(job.data?.enqueuedAt));
    }
    countStats(this.redis, answer.model, answer.modelVersion, increments, { last_inference: Math.round(answer.decidedAt) });
  }

  /** A failed task (e.g. a malformed job) in the fleet-wide statistics. */
  countFailure(model: string, version: string): void {
    countStats(this.redis, model, version, { fail_count: 1, fail_by_worker: 1 });
  }

  /** Remove a finished task's features that no branch worker took (its subjobs are moot now). */
  releaseFeatures(taskId: string, exits: number[]): void {
    if (exits.length === 0) return;
    if (this.featureDir) {
      for (const exit of exits) removeFile(this.featureFile(taskId, exit)!.path);
    } else {
      this.redis.del(...exits.map((exit) => featureKey(taskId, exit))).catch(() => undefined);
    }
  }
}
