import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AnswerContext, AuditRecord, TaskAnswer, buildAnswer, nowMs } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ModelThread, argMax } from '@outlet/inference';
import { ModelPackage, exitAfterSegment } from '@outlet/model-package';
import { InjectRedis, ThresholdStore, countStats } from '@outlet/transport';
import { InFlightTasks } from './in-flight-tasks';
import { PlanSelector } from './plan-selector.service';
import { TrunkTransport } from './trunk-transport.service';
import { TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** Audits waiting at most; beyond, the oldest sampled one is dropped (a progressive one never is). */
export const AUDITS_PENDING_MAX = 256;

/** An answered task to run on to the final exit, every exit head evaluated. */
export interface PendingAudit {
  taskId: string;
  model: string;
  input: Float32Array;
  shape: number[];
  answer: TaskAnswer;
  /** A progressive request: its caller waits for the final exit's answer too. */
  progressive?: { replyTo: string; context: AnswerContext };
}

/**
 * Audits run behind answering work: an audit segment starts only while this trunk has no task in
 * flight and none waits in its queues, checked before every segment, so a task that arrives waits
 * for one audit segment at most. Audits are re-run from the task's input (kept in memory) with
 * every exit head fused to its segment, so one audit costs one full pass of the network.
 */
@Injectable()
export class AuditRunner {
  private readonly logger = new Logger(AuditRunner.name);
  private readonly store: ThresholdStore;
  private readonly pending: PendingAudit[] = [];
  private draining = false;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    @InjectRedis() private readonly redis: Redis,
    private readonly inFlight: InFlightTasks,
    private readonly plans: PlanSelector,
    private readonly transport: TrunkTransport,
  ) {
    this.store = new ThresholdStore(redis);
  }

  /** Audits waiting to run. */
  get size(): number {
    return this.pending.length;
  }

  submit(audit: PendingAudit): void {
    if (audit.progressive) {
      // Its caller waits: ahead of every sampled audit.
      const firstSampled = this.pending.findIndex((a) => !a.progressive);
      this.pending.splice(firstSampled < 0 ? this.pending.length : firstSampled, 0, audit);
    } else {
      this.pending.push(audit);
    }
    if (this.pending.length > AUDITS_PENDING_MAX) {
      const oldest = this.pending.findIndex((a) => !a.progressive);
      if (oldest >= 0) {
        const [dropped] = this.pending.splice(oldest, 1);
        countStats(this.redis, dropped.model, dropped.answer.modelVersion, { audit_dropped: 1 });
      }
    }
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let audit = this.pending.shift(); audit; audit = this.pending.shift()) {
        try {
          await this.run(audit);
        } catch (err) {
          this.logger.warn(`audit of task ${audit.taskId} failed: ${(err as Error).message}`);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Until this trunk has nothing to answer: no task in flight, none waiting in its queues. */
  private async answeringWorkDone(): Promise<void> {
    for (;;) {
      await this.inFlight.idle();
      if (!this.plans.tasksWaiting()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async run(audit: PendingAudit): Promise<void> {
    const m = this.packages.get(audit.model)!.manifest;
    const runId = `audit:${audit.taskId}`;
    const exits: AuditRecord['exits'] = [];
    let final: ArrayLike<number> | undefined;
    try {
      for (let segment = 0; segment < m.segments.length; segment++) {
        await this.answeringWorkDone();
        const withExit = exitAfterSegment(m, segment) !== undefined;
        const result = await this.engine.runSegment({
          model: m.name,
          taskId: runId,
          segment,
          input: segment === 0 ? { data: audit.input, dims: audit.shape } : undefined,
          withExit,
        });
        if (withExit && result.probabilities) {
          const label = argMax(result.probabilities);
          exits.push({ confidence: result.probabilities[label], label });
          final = result.probabilities;
        }
      }
    } finally {
      this.engine.endTask(runId);
    }
    if (!final || exits.length !== m.exits.length) throw new Error(`ran ${exits.length} of ${m.exits.length} exits`);
    const record: AuditRecord = { taskId: audit.taskId, nodeId: this.settings.nodeId, at: Date.now(), thresholdVersion: audit.answer.thresholdVersion, answerExit: audit.answer.exitIndex, exits };
    this.store.addAudit({ model: m.name, version: m.version }, record);
    if (audit.progressive) {
      const { replyTo, context } = audit.progressive;
      const last = exits.length - 1;
      const answer = buildAnswer(audit.taskId, { name: m.name, version: m.version, exitCount: m.exits.length, output: m.output }, context, this.settings.nodeId, {
        exitIndex: last,
        probabilities: final,
        confidence: exits[last].confidence,
        worker: 'trunk',
        decidedAt: nowMs(),
      });
      this.transport.publishContinuation(replyTo, answer);
    }
  }
}
