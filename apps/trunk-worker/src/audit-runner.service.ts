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
/**
 * While answering work never pauses (a saturated trunk), audits may still take this share of the
 * trunk's time, so that the tuner keeps hearing under load: about 2 % of throughput.
 */
export const AUDIT_SHARE_UNDER_LOAD = 0.02;
/** The most audit time saved up under load (ms): no long burst of audit segments ahead of tasks. */
const AUDIT_BUDGET_CAP_MS = 20;
/** How often a waiting audit looks again while tasks wait. */
const AUDIT_POLL_MS = 20;

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
 * Audits run behind answering work: an audit segment starts while this trunk has no task in flight
 * and none waits in its queues, checked before every segment, so a task that arrives waits for one
 * audit segment at most. When answering work never pauses, an audit segment still runs whenever
 * the audits' share of the time since (AUDIT_SHARE_UNDER_LOAD) has paid for it. Audits are re-run
 * from the task's input (kept in memory) with every exit head fused to its segment: one audit
 * costs one full pass of the network.
 */
@Injectable()
export class AuditRunner {
  private readonly logger = new Logger(AuditRunner.name);
  private readonly store: ThresholdStore;
  private readonly pending: PendingAudit[] = [];
  private draining = false;
  /** Audit time (ms) earned under load and not yet spent, and when it was last earned. */
  private budgetMs = 0;
  private budgetAt = nowMs();

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

  /**
   * Until an audit segment may run: at once when the trunk has nothing to answer (`free`), else
   * once the share under load has paid for one (`budget`).
   */
  private async turn(): Promise<'free' | 'budget'> {
    for (;;) {
      const now = nowMs();
      this.budgetMs = Math.min(AUDIT_BUDGET_CAP_MS, this.budgetMs + (now - this.budgetAt) * AUDIT_SHARE_UNDER_LOAD);
      this.budgetAt = now;
      if (this.inFlight.size === 0 && !this.plans.tasksWaiting()) return 'free';
      if (this.budgetMs > 0) return 'budget';
      await new Promise((r) => setTimeout(r, AUDIT_POLL_MS));
    }
  }

  private async run(audit: PendingAudit): Promise<void> {
    const m = this.packages.get(audit.model)!.manifest;
    const runId = `audit:${audit.taskId}`;
    const exits: AuditRecord['exits'] = [];
    let final: ArrayLike<number> | undefined;
    try {
      for (let segment = 0; segment < m.segments.length; segment++) {
        const turn = await this.turn();
        const withExit = exitAfterSegment(m, segment) !== undefined;
        const startedAt = nowMs();
        const result = await this.engine.runSegment({
          model: m.name,
          taskId: runId,
          segment,
          input: segment === 0 ? { data: audit.input, dims: audit.shape } : undefined,
          withExit,
        });
        if (turn === 'budget') this.budgetMs -= nowMs() - startedAt;
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
