import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AnswerBody, ReferenceAnswers } from './answer-check';
import { Manifest } from '@outlet/model-package';
import { httpRequest } from './http-driver';
import { latencyStats, LatencyStats } from './stats';

/**
 * What became of one task the load sent, as its client sees it:
 * - `refused`: the gateway said no (503 while Redis is down, 429, a 5xx before the task was
 *   queued); the client knows the task was not taken;
 * - `accepted`: 202 (asynchronous), or a synchronous request that timed out (504) and names its task;
 *   the answer is still due;
 * - `answered` / `failed`: an accepted task ended with an answer / with an error;
 * - `no-reply`: no HTTP reply at all within the client's timeout (the client cannot tell).
 */
export type TaskOutcome = 'sending' | 'refused' | 'accepted' | 'answered' | 'failed' | 'no-reply';

export interface TaskRecord {
  route: 'sync' | 'async';
  plan: string;
  /** Index of the input in the load's input set. */
  input: number;
  requestId: string;
  outcome: TaskOutcome;
  /** performance.now() of the send and of the answer (an asynchronous answer: the poll that saw it). */
  sentAt: number;
  answeredAt?: number;
  taskId?: string;
  /** HTTP status or error of a refusal, a failure or a missing reply. */
  detail?: string;
  /** Why the answer is wrong (see ReferenceAnswers), when it is. */
  problem?: string;
  /** A synchronous request answered 504; its answer was then polled for. */
  syncTimedOut?: boolean;
  exitIndex?: number;
  exitWorker?: string;
  nodeId?: string;
  /** The probabilities a synchronous caller got (checked against the job's stored answer at the end). */
  probabilities?: number[];
}

export interface TaskLoadOptions {
  baseUrl: string;
  /** The model served: its name and input (sent with a batch of 1). */
  manifest: Pick<Manifest, 'name' | 'input'>;
  /** The distinct inputs, sent in turn, with the answers the model gives them. */
  inputs: Float32Array[];
  reference: ReferenceAnswers;
  /** Tasks per second (open loop: sent on time whatever the answers do). */
  ratePerS: number;
  /** Share of tasks sent as asynchronous jobs (POST /v1/jobs); the rest are synchronous /infer. */
  asyncShare: number;
  /** Plans the tasks name, in turn. */
  plans: string[];
  /** How often an asynchronous task's state is polled (default 100 ms). */
  pollMs?: number;
  /** A request with no HTTP reply for this long is given up (`no-reply`; default 60 s). */
  replyTimeoutMs?: number;
}

export interface LoadSummary {
  sent: number;
  accepted: number;
  answered: number;
  failed: number;
  /** Accepted but not answered by the end (failed ones included). */
  lost: number;
  wrong: number;
  refused: number;
  refusedBy: Record<string, number>;
  noReply: number;
  /** Synchronous requests answered 504 whose answer came later by polling. */
  syncTimeouts: number;
  byRoute: Record<string, { sent: number; answered: number }>;
  byExitWorker: Record<string, number>;
  /** Synchronous round trips of answered tasks, ms. */
  syncLatency: LatencyStats;
  /** The first few problems, for the report. */
  examples: string[];
}

const TIMED_OUT_TASK = /task (\S+) did not finish/;
const FAILED_TASK = /task (\S+) failed/;

/** A steady open-loop load of real digits over HTTP, keeping every task's fate and checking every answer. */
export class TaskLoad {
  readonly records: TaskRecord[] = [];
  private readonly inputJson: string[];
  private readonly events = new EventEmitter();
  private sending = false;
  private pacer?: Promise<void>;
  /** Pollers give up at this moment (performance.now()). */
  private pollUntil = Infinity;

  private readonly o: Required<TaskLoadOptions>;

  constructor(options: TaskLoadOptions) {
    const o = (this.o = { pollMs: 100, replyTimeoutMs: 60_000, ...options });
    this.inputJson = o.inputs.map((pixels) => JSON.stringify({ name: o.manifest.input.name, shape: [1, ...o.manifest.input.shape.slice(1)], datatype: 'FP32', data: Array.from(pixels) }));
    this.events.setMaxListeners(0);
  }

  /** Start sending at the configured rate (until stop()). */
  start(): void {
    this.sending = true;
    const interval = 1000 / this.o.ratePerS;
    const started = performance.now();
    this.pacer = (async () => {
      for (let k = 0; this.sending; k++) {
        const wait = started + k * interval - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (this.sending) this.send();
      }
    })();
  }

  /** Stop sending new tasks (those sent go on). */
  async stop(): Promise<void> {
    this.sending = false;
    await this.pacer;
  }

  /** Send `count` asynchronous tasks with `plan` at once, beside the steady load. */
  burst(count: number, plan: string): void {
    for (let i = 0; i < count; i++) this.send('async', plan);
  }

  /** Tasks sent before `t` that have not settled yet (sent, or accepted and not answered). */
  unsettledAt(t: number): TaskRecord[] {
    return this.records.filter((r) => r.sentAt <= t && !TaskLoad.settled(r));
  }

  static settled(r: TaskRecord): boolean {
    return r.outcome !== 'sending' && r.outcome !== 'accepted';
  }

  /** Resolves true once `condition` holds (checked whenever a task settles), false at `deadline` (performance.now()). */
  waitFor(condition: () => boolean, deadline: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - performance.now()));
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.events.off('settled', check);
        resolve(ok);
      };
      this.events.on('settled', check);
    });
  }

  /** Stop sending, wait for every task to settle until `deadline` (performance.now()), then stop polling. */
  async drain(deadline: number): Promise<boolean> {
    await this.stop();
    const all = await this.waitFor(() => this.records.every(TaskLoad.settled), deadline);
    this.pollUntil = performance.now();
    return all;
  }

  /**
   * Each synchronous answer must be the task's one answer: the job's stored result (GET /v1/jobs)
   * must be the answer the caller got, and no two requests may get the same task's answer.
   */
  async verifyStoredAnswers(): Promise<void> {
    const seen = new Map<string, TaskRecord>();
    for (const r of this.records) {
      if (r.outcome !== 'answered' || !r.taskId) continue;
      const other = seen.get(r.taskId);
      if (other) this.markWrong(r, `task ${r.taskId} answered request ${other.requestId} too`);
      seen.set(r.taskId, r);
    }
    const sync = this.records.filter((r) => r.route === 'sync' && r.outcome === 'answered' && !r.syncTimedOut && !r.problem);
    for (let i = 0; i < sync.length; i += 16) {
      await Promise.all(
        sync.slice(i, i + 16).map(async (r) => {
          const res = await httpRequest('GET', `${this.o.baseUrl}/v1/jobs/${r.taskId}`, undefined, this.o.replyTimeoutMs).catch((err: Error) => ({ status: 0, text: err.message }));
          if (res.status !== 200) return this.markWrong(r, `the job of task ${r.taskId} is not readable (${res.status} ${res.text.slice(0, 80)})`);
          const stored = (JSON.parse(res.text) as { result?: AnswerBody }).result;
          const same = stored?.parameters?.exit_index === r.exitIndex && JSON.stringify(stored?.outputs?.[0]?.data) === JSON.stringify(r.probabilities);
          if (!same) this.markWrong(r, `task ${r.taskId}: the job's stored answer (exit ${stored?.parameters?.exit_index}) is not the one its caller got (exit ${r.exitIndex})`);
        }),
      );
    }
  }

  summary(): LoadSummary {
    const count = (pred: (r: TaskRecord) => boolean) => this.records.filter(pred).length;
    const refusedBy: Record<string, number> = {};
    const byExitWorker: Record<string, number> = {};
    const byRoute: LoadSummary['byRoute'] = { sync: { sent: 0, answered: 0 }, async: { sent: 0, answered: 0 } };
    for (const r of this.records) {
      byRoute[r.route].sent++;
      if (r.outcome === 'refused') refusedBy[r.detail ?? '?'] = (refusedBy[r.detail ?? '?'] ?? 0) + 1;
      if (r.outcome === 'answered') {
        byRoute[r.route].answered++;
        const key = `${r.exitWorker}@${r.nodeId}`;
        byExitWorker[key] = (byExitWorker[key] ?? 0) + 1;
      }
    }
    const accepted = count((r) => ['accepted', 'answered', 'failed'].includes(r.outcome));
    const answered = count((r) => r.outcome === 'answered');
    const problems = this.records.filter((r) => r.problem);
    const unanswered = this.records.filter((r) => r.outcome === 'accepted' || r.outcome === 'failed');
    return {
      sent: this.records.length,
      accepted,
      answered,
      failed: count((r) => r.outcome === 'failed'),
      lost: accepted - answered,
      wrong: problems.length,
      refused: count((r) => r.outcome === 'refused'),
      refusedBy,
      noReply: count((r) => r.outcome === 'no-reply'),
      syncTimeouts: count((r) => !!r.syncTimedOut),
      byRoute,
      byExitWorker,
      syncLatency: latencyStats(this.records.filter((r) => r.route === 'sync' && r.outcome === 'answered' && !r.syncTimedOut).map((r) => r.answeredAt! - r.sentAt)),
      examples: [
        ...problems.slice(0, 5).map((r) => `wrong: ${r.requestId} (${r.route}): ${r.problem}`),
        ...unanswered.slice(0, 5).map((r) => `lost: ${r.requestId} (${r.route}, task ${r.taskId}): ${r.outcome === 'failed' ? `failed: ${r.detail}` : 'no answer by the deadline'}`),
      ],
    };
  }

  private send(route?: 'sync' | 'async', plan?: string): void {
    const n = this.records.length;
    const share = this.o.asyncShare;
    // Spread asynchronous tasks evenly: task n is asynchronous when n·share crosses an integer.
    const chosen = route ?? (Math.floor((n + 1) * share) > Math.floor(n * share) ? 'async' : 'sync');
    const record: TaskRecord = {
      route: chosen,
      plan: plan ?? this.o.plans[Math.floor(n / 2) % this.o.plans.length],
      input: n % this.o.inputs.length,
      requestId: `load-${n}`,
      outcome: 'sending',
      sentAt: performance.now(),
    };
    this.records.push(record);
    void (chosen === 'sync' ? this.sendSync(record) : this.sendAsync(record));
  }

  private body(r: TaskRecord, withModel: boolean): string {
    const model = withModel ? `"model":${JSON.stringify(this.o.manifest.name)},` : '';
    return `{${model}"id":"${r.requestId}","inputs":[${this.inputJson[r.input]}],"parameters":{"plan":${JSON.stringify(r.plan)}}}`;
  }

  private async sendSync(r: TaskRecord): Promise<void> {
    let res;
    try {
      res = await httpRequest('POST', `${this.o.baseUrl}/v2/models/${this.o.manifest.name}/infer`, this.body(r, false), this.o.replyTimeoutMs);
    } catch (err) {
      return this.settle(r, 'no-reply', (err as Error).message);
    }
    if (res.status === 200) return this.answer(r, JSON.parse(res.text) as AnswerBody);
    const timedOut = res.status === 504 ? TIMED_OUT_TASK.exec(res.text) : null;
    const failed = res.status >= 400 ? FAILED_TASK.exec(res.text) : null;
    if (timedOut) {
      // Queued but not answered in the gateway's time: the task is still due; ask for it as a job.
      r.taskId = timedOut[1];
      r.syncTimedOut = true;
      r.outcome = 'accepted';
      return this.poll(r);
    }
    if (failed) {
      r.taskId = failed[1];
      return this.settle(r, 'failed', `${res.status} ${res.text.slice(0, 160)}`);
    }
    this.settle(r, 'refused', String(res.status));
  }

  private async sendAsync(r: TaskRecord): Promise<void> {
    let res;
    try {
      res = await httpRequest('POST', `${this.o.baseUrl}/v1/jobs`, this.body(r, true), this.o.replyTimeoutMs);
    } catch (err) {
      return this.settle(r, 'no-reply', (err as Error).message);
    }
    if (res.status !== 202) return this.settle(r, 'refused', String(res.status));
    r.taskId = (JSON.parse(res.text) as { id: string }).id;
    r.outcome = 'accepted';
    await this.poll(r);
  }

  /** Poll an accepted task's job until it ends or polling stops (then it stays `accepted`: lost). */
  private async poll(r: TaskRecord): Promise<void> {
    while (performance.now() < this.pollUntil) {
      await new Promise((resolve) => setTimeout(resolve, this.o.pollMs));
      const res = await httpRequest('GET', `${this.o.baseUrl}/v1/jobs/${r.taskId}`, undefined, this.o.replyTimeoutMs).catch(() => undefined);
      if (res?.status !== 200) continue; // Redis away, or the gateway busy: ask again
      const job = JSON.parse(res.text) as { state: string; result?: AnswerBody; error?: string };
      if (job.state === 'completed' && job.result) return this.answer(r, job.result);
      if (job.state === 'failed') return this.settle(r, 'failed', job.error);
    }
  }

  private answer(r: TaskRecord, body: AnswerBody): void {
    const p = body.parameters ?? {};
    r.taskId = typeof p.task_id === 'string' ? p.task_id : r.taskId;
    r.exitIndex = typeof p.exit_index === 'number' ? p.exit_index : undefined;
    r.exitWorker = String(p.exit_worker);
    r.nodeId = String(p.node_id);
    const data = body.outputs?.[0]?.data;
    r.probabilities = Array.isArray(data) ? (data as number[]) : undefined;
    r.problem = this.o.reference.problem(r.input, r.requestId, body);
    this.settle(r, 'answered');
  }

  private markWrong(r: TaskRecord, problem: string): void {
    r.problem ??= problem;
  }

  private settle(r: TaskRecord, outcome: TaskOutcome, detail?: string): void {
    r.outcome = outcome;
    r.detail = detail;
    if (outcome === 'answered') r.answeredAt = performance.now();
    this.events.emit('settled', r);
  }
}
