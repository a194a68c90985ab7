import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
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

/** Sampled audits waiting at most; beyond, the oldest is dropped (continuations wait in their own queue, never dropped). */
export const AUDITS_PENDING_MAX = 256;
/**
 * While answering work never pauses (a saturated trunk), a progressive continuation may still take
 * this share of the trunk's time, so that its caller gets the final answer under load.
 */
export const CONTINUATION_SHARE_UNDER_LOAD = 0.02;
/** The most continuation time saved up under load (ms): no long burst of segments ahead of tasks. */
const CONTINUATION_BUDGET_CAP_MS = 20;
/** How often a waiting continuation looks again while tasks wait. */
const CONTINUATION_POLL_MS = 20;

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
 * Audits are re-run from the task's input (kept in memory) with every exit head fused to its
 * segment: one audit costs one full pass of the network.
 *
 * Sampled audits never delay an answer: they run in a thread of their own on the CPU (one
 * onnxruntime thread, the trunk process's cores) at the lowest priority the OS has (Linux
 * SCHED_IDLE, else nice 19), which the scheduler runs only on time no other thread wants and
 * pre-empts the moment the trunk has work, mid-segment. On a saturated node that leaves them
 * almost nothing: the queue fills and the oldest are dropped (counted as audit_dropped). The
 * thread starts with the first sampled audit.
 *
 * A progressive request's continuation is different: its caller waits for it. It runs on the
 * trunk's own engine behind answering work: a segment starts while the trunk has no task in
 * flight and none waits, checked before every segment, so a task that arrives waits for one
 * segment at most; when answering work never pauses, a segment still runs whenever
 * CONTINUATION_SHARE_UNDER_LOAD of the time since has paid for it.
 */
@Injectable()
export class AuditRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditRunner.name);
  private readonly store: ThresholdStore;
  private readonly sampled: PendingAudit[] = [];
  private readonly continuations: PendingAudit[] = [];
  private readonly draining = { sampled: false, continuations: false };
  private idleEngine?: Promise<ModelThread>;
  /** Continuation time (ms) earned under load and not yet spent, and when it was last earned. */
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

  submit(audit: PendingAudit): void {
    if (audit.progressive) {
      this.continuations.push(audit);
      if (!this.draining.continuations) void this.drain('continuations');
      return;
    }
    this.sampled.push(audit);
    if (this.sampled.length > AUDITS_PENDING_MAX) {
      const [dropped] = this.sampled.splice(0, 1);
      countStats(this.redis, dropped.model, dropped.answer.modelVersion, { audit_dropped: 1 });
    }
    if (!this.draining.sampled) void this.drain('sampled');
  }

  async onApplicationShutdown(): Promise<void> {
    const idle = this.idleEngine;
    this.idleEngine = undefined;
    if (idle) await (await idle.catch(() => undefined))?.close();
  }

  private async drain(queue: 'sampled' | 'continuations'): Promise<void> {
    this.draining[queue] = true;
    const pending = this[queue];
    try {
      for (let audit = pending.shift(); audit; audit = pending.shift()) {
        try {
          if (queue === 'sampled') await this.run(audit, await this.auditEngine(), async () => undefined);
          else await this.run(audit, this.engine, () => this.turn());
        } catch (err) {
          this.logger.warn(`audit of task ${audit.taskId} failed: ${(err as Error).message}`);
        }
      }
    } finally {
      this.draining[queue] = false;
    }
  }

  /** The idle-priority audit thread, started once; a failed start is tried again by the next audit. */
  private auditEngine(): Promise<ModelThread> {
    this.idleEngine ??= ModelThread.start(
      {
        packageDirs: [...this.packages.values()].map((p) => p.dir),
        ep: 'cpu',
        threads: 1,
        pieces: { segments: true, exits: 'none', fused: true },
        idle: true,
      },
      (line) => this.logger.log(line),
      (err) => {
        this.logger.warn(`audit thread: ${err.message}; the next audit starts another`);
        this.idleEngine = undefined;
      },
    ).then(
      (engine) => {
        this.logger.log('audit thread started: cpu, 1 thread');
        return engine;
      },
      (err) => {
        this.idleEngine = undefined;
        throw err;
      },
    );
    return this.idleEngine;
  }

  /**
   * Until a continuation segment may run on the trunk's engine: at once when it has nothing to
   * answer, else once the share under load has paid for one (`budget`).
   */
  private async turn(): Promise<'free' | 'budget'> {
    for (;;) {
      const now = nowMs();
      this.budgetMs = Math.min(CONTINUATION_BUDGET_CAP_MS, this.budgetMs + (now - this.budgetAt) * CONTINUATION_SHARE_UNDER_LOAD);
      this.budgetAt = now;
      if (this.inFlight.size === 0 && !this.plans.tasksWaiting()) return 'free';
      if (this.budgetMs > 0) return 'budget';
      await new Promise((r) => setTimeout(r, CONTINUATION_POLL_MS));
    }
  }

  private async run(audit: PendingAudit, engine: ModelThread, turn: () => Promise<'free' | 'budget' | undefined>): Promise<void> {
    const m = this.packages.get(audit.model)!.manifest;
    const runId = `audit:${audit.taskId}`;
    const exits: AuditRecord['exits'] = [];
    let final: ArrayLike<number> | undefined;
    try {
      for (let segment = 0; segment < m.segments.length; segment++) {
        const paidBy = await turn();
        const withExit = exitAfterSegment(m, segment) !== undefined;
        const startedAt = nowMs();
        const result = await engine.runSegment({
          model: m.name,
          taskId: runId,
          segment,
          input: segment === 0 ? { data: audit.input, dims: audit.shape } : undefined,
          withExit,
        });
        if (paidBy === 'budget') this.budgetMs -= nowMs() - startedAt;
        if (withExit && result.probabilities) {
          const label = argMax(result.probabilities);
          exits.push({ confidence: result.probabilities[label], label });
          final = result.probabilities;
        }
      }
    } finally {
      engine.endTask(runId);
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
