import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Job, Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { branchQueueName, inferQueueName, queuePrefix } from '@outlet/contracts';
import { loadModelPackage } from '@outlet/model-package';
import { reportErrorsBesidesOutages } from '@outlet/transport';
import { quantile } from '@outlet/profiler';
import { ManagedProcess, OutletSystem, PrivateCluster, PrivateRedis, PrivateSentinelSet, pollUntil, redisCli, startPrivateCluster, startPrivateSentinelSet, waitForReplicaLink } from '@outlet/supervisor';
import { ReferenceAnswers } from './answer-check';
import { heldOutRequests } from './request-set';
import { LoadSummary, TaskLoad, TaskRecord } from './task-load';
import { featureRoot, waitUntilModelReady } from './system-setup';

export const KILL_KINDS = ['trunk', 'branch', 'redis'] as const;
export type KillKind = (typeof KILL_KINDS)[number];
/** What Redis the run starts: one server with an append-only file, a cluster (3 masters + 3 replicas) or a Sentinel set (a primary, a replica, 3 Sentinels). */
export const CHAOS_REDIS = ['single', 'cluster', 'sentinel'] as const;
export type ChaosRedis = (typeof CHAOS_REDIS)[number];

export interface ChaosOptions {
  model: string;
  modelsDir: string;
  /** Kills of each kind. */
  killsEach: number;
  kinds: KillKind[];
  /** Go on with the load until at least this many tasks were sent. */
  minTasks: number;
  ratePerS: number;
  asyncShare: number;
  plans: string[];
  /** Distinct digits in the request set. */
  digits: number;
  /** Load-only time between one kill's recovery and the next kill. */
  gapMs: number;
  /** How long one kill may take to recover before it counts as not recovered. */
  recoveryDeadlineMs: number;
  /** After the load stops, how long accepted tasks may take to be answered. */
  drainDeadlineMs: number;
  /** single (default): a redis kill restarts the server from its append-only file; cluster, sentinel: it kills the server holding the model's queue, a replica takes over, and the killed one comes back as a replica. */
  redis?: ChaosRedis;
  log: (line: string) => void;
}

/** One kill -9 and what followed it. Times in ms from the kill. */
export interface KillRecord {
  kind: KillKind;
  /** The node whose worker died, or "redis". */
  target: string;
  /** Seconds from the start of the load. */
  atS: number;
  /** Whether the victim held work when it died (trunk: both trunks held a task; branch: it held a subjob; Redis: a trunk held a task). */
  victimBusy: boolean;
  /** Kill → the replacement process is ready (respawned worker, or Redis loaded from its append-only file). */
  restartMs: number;
  /** Tasks sent before the kill and not settled then that turned out accepted. */
  affected: number;
  /** Kill → the last affected task answered; null when one was not answered within the deadline (or failed). */
  recoveryMs: number | null;
  /** The affected task answered last (or not at all): its request id, route and whether its synchronous caller got a 504 first. */
  slowest?: string;
  /** Redis: kill → the first answer the load received after Redis was ready again. */
  firstAnswerAfterRestartMs?: number;
  /** Trunk: affected tasks that BullMQ took back from the dead trunk and a live one ran again. */
  takenOver?: number;
}

export interface KindRecovery {
  kills: number;
  /** Kills that had accepted tasks in flight (the recovery quantiles are over these). */
  withAffectedTasks: number;
  notRecovered: number;
  recoveryP50Ms: number | null;
  recoveryMaxMs: number | null;
  restartP50Ms: number;
  restartMaxMs: number;
  firstAnswerAfterRestartP50Ms?: number;
  firstAnswerAfterRestartMaxMs?: number;
  takenOver?: number;
}

export interface ChaosReport {
  model: string;
  options: Omit<ChaosOptions, 'log'>;
  load: LoadSummary;
  kills: KillRecord[];
  recovery: Partial<Record<KillKind, KindRecovery>>;
  /** No accepted task lost, none wrong, every request replied to. */
  passed: boolean;
  wallS: number;
}

const BUSY_DEADLINE_MS = 5_000;
/** Tasks sent at once before a kill, so that the victim holds work when it dies. */
const BURST = 8;
/** Answered tasks before the first kill: the system is serving. */
const WARM_TASKS = 20;

/**
 * `outlet chaos`: Redis with an append-only file, a gateway and two nodes as separate processes,
 * a steady load of real digits, and kill -9 of a trunk worker, a branch worker and Redis in turn,
 * each restarted at once; then every accepted task must be answered, and rightly.
 */
export class ChaosRun {
  private system!: OutletSystem;
  private cluster?: PrivateCluster;
  /** The last killed server back and in sync as a replica (cluster, sentinel). */
  private replicaBack: Promise<void> = Promise.resolve();
  private sentinels?: PrivateSentinelSet;
  private load!: TaskLoad;
  private inferQueue!: Queue;
  private branchQueues = new Map<string, Queue>();
  private loadStartedAt = 0;
  /** The tasks in flight at each trunk kill (their jobs tell later whether they were taken over). */
  private readonly trunkKills = new Map<KillRecord, TaskRecord[]>();

  constructor(private readonly o: ChaosOptions) {}

  async run(): Promise<ChaosReport> {
    const o = this.o;
    const started = performance.now();
    const pkg = loadModelPackage(join(o.modelsDir, o.model));
    const inputs = heldOutRequests(pkg.manifest, o.digits).map((r) => r.pixels);
    o.log(`computing the reference answers of ${inputs.length} digits (every exit, onnxruntime in this process)`);
    const reference = await ReferenceAnswers.compute(pkg, inputs);
    const redisDir = mkdtempSync(join(tmpdir(), 'outlet-chaos-redis-'));
    const features = mkdtempSync(join(featureRoot(), 'chaos-'));
    try {
      const mode = o.redis ?? 'single';
      if (mode === 'cluster') this.cluster = await startPrivateCluster({ masters: 3, replicas: 1 });
      if (mode === 'sentinel') this.sentinels = await startPrivateSentinelSet({ replicas: 1, sentinels: 3 });
      const where = { single: 'Redis (append-only file, fsync always)', cluster: 'a Redis Cluster (3 masters + 3 replicas)', sentinel: 'a Sentinel set (a primary, a replica, 3 Sentinels)' }[mode];
      o.log(`starting ${where}, a gateway and nodes chaos-a and chaos-b`);
      this.system = await OutletSystem.start({
        quiet: true,
        redisUrl: this.cluster?.target ?? this.sentinels?.target,
        redis: { dataDir: redisDir },
        env: { OUTLET_MODELS_DIR: o.modelsDir, OUTLET_JOB_RETENTION: '1000000', OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_DIR: features },
        nodes: [{ nodeId: 'chaos-a' }, { nodeId: 'chaos-b' }],
      });
      await waitUntilModelReady(this.system.baseUrl, o.model, 60_000);
      const url = this.system.redisUrl;
      this.inferQueue = new Queue(inferQueueName(o.model), queueOptions(inferQueueName(o.model), url));
      for (const n of this.system.nodes) this.branchQueues.set(n.nodeId, new Queue(branchQueueName(n.nodeId), queueOptions(branchQueueName(n.nodeId), url)));
      // Redis goes away on purpose here: its connection errors are expected, anything else is a line.
      for (const q of [this.inferQueue, ...this.branchQueues.values()]) reportErrorsBesidesOutages(q, `queue ${q.name}`);
      this.load = new TaskLoad({ baseUrl: this.system.baseUrl, manifest: pkg.manifest, inputs, reference, ratePerS: o.ratePerS, asyncShare: o.asyncShare, plans: o.plans });
      return await this.drive(started);
    } finally {
      // On a cluster each queue has a client of its own, which close() leaves open.
      await Promise.all([this.inferQueue, ...this.branchQueues.values()].map(async (q) => (await q?.close(), await q?.disconnect())));
      await this.system?.stop();
      await this.replicaBack;
      await this.cluster?.stop();
      await this.sentinels?.stop();
      rmSync(redisDir, { recursive: true, force: true });
      rmSync(features, { recursive: true, force: true });
    }
  }

  private async drive(started: number): Promise<ChaosReport> {
    const o = this.o;
    const load = this.load;
    this.loadStartedAt = performance.now();
    load.start();
    o.log(`load: ${o.ratePerS} tasks/s, ${Math.round(o.asyncShare * 100)}% as jobs, plans ${o.plans.join(' / ')}`);
    const warm = await load.waitFor(() => load.records.filter((r) => r.outcome === 'answered').length >= WARM_TASKS, performance.now() + 60_000);
    if (!warm) throw new Error(`the system did not answer ${WARM_TASKS} tasks within 60 s before any kill`);

    const kills: KillRecord[] = [];
    for (let round = 0; round < o.killsEach; round++) {
      for (const kind of o.kinds) {
        const record = await this.kill(kind, round);
        kills.push(record);
        o.log(
          `kill ${kills.length}/${o.killsEach * o.kinds.length}: ${kind} ${record.target} at ${record.atS.toFixed(1)} s${record.victimBusy ? '' : ' (not seen busy within 5 s)'} — ` +
            `restarted in ${record.restartMs.toFixed(0)} ms, ${record.affected} task(s) in flight, ` +
            (record.recoveryMs === null ? `NOT all answered (${record.slowest})` : record.affected ? `all answered ${record.recoveryMs.toFixed(0)} ms after the kill (last: ${record.slowest})` : 'none to recover') +
            (record.firstAnswerAfterRestartMs !== undefined ? `, first answer ${record.firstAnswerAfterRestartMs.toFixed(0)} ms after the kill` : ''),
        );
        await new Promise((r) => setTimeout(r, o.gapMs)); // load-only pacing between kills
      }
    }
    if (load.records.length < o.minTasks) {
      o.log(`load: going on until ${o.minTasks} tasks are sent (${load.records.length} so far)`);
      await load.waitFor(() => load.records.length >= o.minTasks, performance.now() + ((o.minTasks - load.records.length) / o.ratePerS) * 2_000 + 60_000);
    }
    o.log(`load stopped; waiting up to ${o.drainDeadlineMs / 1000} s for every accepted task`);
    await load.drain(performance.now() + o.drainDeadlineMs);
    await load.verifyStoredAnswers();
    await this.countTakeovers(kills);
    const summary = load.summary();
    return {
      model: o.model,
      options: { ...o, log: undefined } as Omit<ChaosOptions, 'log'>,
      load: summary,
      kills,
      recovery: recoveryByKind(kills),
      passed: summary.lost === 0 && summary.wrong === 0 && summary.noReply === 0,
      wallS: (performance.now() - started) / 1000,
    };
  }

  /** Wait (bounded) until the victim holds work, kill it with SIGKILL, start it again and follow the tasks it held. */
  private async kill(kind: KillKind, round: number): Promise<KillRecord> {
    const node = this.system.nodes[round % this.system.nodes.length];
    this.load.burst(BURST, 'parallel');
    const victimBusy = await this.waitBusy(kind, node.nodeId);
    // A replica that has not finished its first sync cannot take over: the last victim must be one again.
    if (kind === 'redis') await this.replicaBack;
    const redis = kind === 'redis' ? await this.redisVictim() : undefined;
    const victim: ManagedProcess = redis ? redis.server : node[kind as 'trunk' | 'branch'];
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    const inFlight = this.load.unsettledAt(killedAt);
    const deadline = killedAt + this.o.recoveryDeadlineMs;
    await victim.exited;
    const restarted = (redis ? this.redisBack(redis) : this.system.respawn(node.nodeId, kind as 'trunk' | 'branch')).then(() => performance.now());
    const [readyAt] = await Promise.all([restarted, this.load.waitFor(() => inFlight.every(TaskLoad.settled), deadline)]);
    const record: KillRecord = {
      kind,
      target: kind === 'redis' ? 'redis' : node.nodeId,
      atS: (killedAt - this.loadStartedAt) / 1000,
      victimBusy,
      restartMs: readyAt - killedAt,
      ...recoveryOf(inFlight, killedAt),
    };
    if (kind === 'redis') {
      const answeredAfter = () => this.load.records.find((r) => r.answeredAt !== undefined && r.answeredAt > readyAt);
      await this.load.waitFor(() => answeredAfter() !== undefined, Math.max(deadline, readyAt + 5_000));
      const first = answeredAfter();
      if (first) record.firstAnswerAfterRestartMs = first.answeredAt! - killedAt;
    }
    if (kind === 'trunk') this.trunkKills.set(record, inFlight);
    return record;
  }

  /** The Redis server a redis kill hits: the one server, or the one serving the model's queue (cluster master, Sentinel primary). */
  private async redisVictim(): Promise<PrivateRedis> {
    if (this.cluster) return this.cluster.masterOf(await this.queueSlot());
    if (this.sentinels) return this.sentinels.primary();
    return this.system.privateRedis!;
  }

  /**
   * Redis serves again: the one server restarted from its append-only file; with replicas, once a
   * replica serves in the victim's place (fail-over; then the victim restarts, as a replica).
   */
  private async redisBack(victim: PrivateRedis): Promise<void> {
    if (!this.cluster && !this.sentinels) {
      await victim.restart();
      return;
    }
    const current = async () => (this.cluster ? this.cluster.masterOf(await this.queueSlot()) : this.sentinels!.primary());
    // Fail-over takes a few seconds (cluster-node-timeout, sentinel down-after): a minute means it never will.
    await pollUntil(async () => (await current().catch(() => victim)) !== victim, 60_000, `no replica took over from the killed Redis server on port ${victim.port}`);
    this.replicaBack = victim
      .restart()
      .then(() => waitForReplicaLink(victim.port))
      .catch((err: Error) => this.o.log(`the killed Redis server did not come back as a replica: ${err.message}`));
  }

  /** The slot of the model's inference queue on the cluster. */
  private async queueSlot(): Promise<number> {
    const port = this.cluster!.servers.find((s) => s.server.running)!.port;
    return Number((await redisCli(port, ['cluster', 'keyslot', `${queuePrefix(inferQueueName(this.o.model))}:wait`])).trim());
  }

  /** Trunk kills: how many of their affected tasks BullMQ recovered from the dead worker (the job's stalled counter). */
  private async countTakeovers(kills: KillRecord[]): Promise<void> {
    for (const record of kills) {
      const inFlight = this.trunkKills.get(record);
      if (!inFlight) continue;
      let takenOver = 0;
      for (const task of inFlight) {
        if (!task.taskId) continue;
        const job = await Job.fromId(this.inferQueue, task.taskId);
        if (job && job.stalledCounter > 0) takenOver++;
      }
      record.takenOver = takenOver;
    }
  }

  /** Polls BullMQ's active counts until the victim surely holds work, or 5 s pass. */
  private async waitBusy(kind: KillKind, nodeId: string): Promise<boolean> {
    const deadline = performance.now() + BUSY_DEADLINE_MS;
    // Each trunk runs one task at a time: two active tasks mean both trunks, the victim too, hold one.
    const busy =
      kind === 'trunk'
        ? async () => (await this.inferQueue.getActiveCount()) >= 2
        : kind === 'branch'
          ? async () => (await this.branchQueues.get(nodeId)!.getActiveCount()) >= 1
          : async () => (await this.inferQueue.getActiveCount()) >= 1;
    while (performance.now() < deadline) {
      if (await busy()) return true;
      await new Promise((r) => setTimeout(r, 2));
    }
    return false;
  }
}

/** Recovery of one kill from the tasks that were in flight at it. */
function recoveryOf(inFlight: TaskRecord[], killedAt: number): Pick<KillRecord, 'affected' | 'recoveryMs' | 'slowest'> {
  const affected = inFlight.filter((r) => r.outcome === 'answered' || r.outcome === 'failed' || r.outcome === 'accepted');
  const describe = (r: TaskRecord) => `${r.requestId} (${r.route}, ${r.outcome}${r.syncTimedOut ? ' after a 504' : ''})`;
  const unanswered = affected.find((r) => r.outcome !== 'answered');
  if (unanswered) return { affected: affected.length, recoveryMs: null, slowest: describe(unanswered) };
  if (!affected.length) return { affected: 0, recoveryMs: 0 };
  const slowest = affected.reduce((a, b) => (b.answeredAt! > a.answeredAt! ? b : a));
  return { affected: affected.length, recoveryMs: slowest.answeredAt! - killedAt, slowest: describe(slowest) };
}

function recoveryByKind(kills: KillRecord[]): Partial<Record<KillKind, KindRecovery>> {
  const out: Partial<Record<KillKind, KindRecovery>> = {};
  const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
  for (const kind of KILL_KINDS) {
    const of = kills.filter((k) => k.kind === kind);
    if (!of.length) continue;
    const withAffected = of.filter((k) => k.affected > 0);
    const recovered = sorted(withAffected.filter((k) => k.recoveryMs !== null).map((k) => k.recoveryMs!));
    const restarts = sorted(of.map((k) => k.restartMs));
    const entry: KindRecovery = {
      kills: of.length,
      withAffectedTasks: withAffected.length,
      notRecovered: withAffected.length - recovered.length,
      recoveryP50Ms: recovered.length ? quantile(recovered, 0.5) : null,
      recoveryMaxMs: recovered.length ? recovered[recovered.length - 1] : null,
      restartP50Ms: quantile(restarts, 0.5),
      restartMaxMs: restarts[restarts.length - 1],
    };
    if (kind === 'redis') {
      const first = sorted(of.filter((k) => k.firstAnswerAfterRestartMs !== undefined).map((k) => k.firstAnswerAfterRestartMs!));
      if (first.length) {
        entry.firstAnswerAfterRestartP50Ms = quantile(first, 0.5);
        entry.firstAnswerAfterRestartMaxMs = first[first.length - 1];
      }
    }
    if (kind === 'trunk') entry.takenOver = of.reduce((s, k) => s + (k.takenOver ?? 0), 0);
    out[kind] = entry;
  }
  return out;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v / 1000).toFixed(2)} s`);

/** The chaos report as text: totals, recovery per kind of kill, definitions, verdict. */
export function chaosText(r: ChaosReport): string {
  const l = r.load;
  const refusedBy = Object.entries(l.refusedBy).map(([k, v]) => `${k}: ${v}`).join(', ');
  const lines = [
    `outlet chaos: ${r.model}, ${r.kills.length} kills (kill -9), ${r.wallS.toFixed(0)} s`,
    '',
    `tasks sent      ${l.sent} (${l.byRoute.sync.sent} synchronous /infer, ${l.byRoute.async.sent} jobs)`,
    `accepted        ${l.accepted}`,
    `answered        ${l.answered}  (synchronous p50 ${l.syncLatency.p50Ms.toFixed(1)} ms, p99 ${l.syncLatency.p99Ms.toFixed(1)} ms; ${l.syncTimeouts} answered only after a 504)`,
    `lost            ${l.lost}  (accepted, never answered: ${l.failed} failed, ${l.lost - l.failed} without an answer by the deadline)`,
    `wrong           ${l.wrong}`,
    `refused         ${l.refused}${refusedBy ? ` (${refusedBy})` : ''}`,
    `no reply        ${l.noReply}`,
    `answered by     ${Object.entries(l.byExitWorker).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    'recovery        kills  with tasks  not recovered  recovery p50  max       restart p50  max',
    ...KILL_KINDS.filter((k) => r.recovery[k]).map((k) => {
      const e = r.recovery[k]!;
      return `${k.padEnd(16)}${String(e.kills).padEnd(7)}${String(e.withAffectedTasks).padEnd(12)}${String(e.notRecovered).padEnd(15)}${ms(e.recoveryP50Ms).padEnd(14)}${ms(e.recoveryMaxMs).padEnd(10)}${ms(e.restartP50Ms).padEnd(13)}${ms(e.restartMaxMs)}`;
    }),
  ];
  const redis = r.recovery.redis;
  if (redis?.firstAnswerAfterRestartP50Ms !== undefined) {
    lines.push(`redis: kill → first answer after the restart: p50 ${ms(redis.firstAnswerAfterRestartP50Ms)}, max ${ms(redis.firstAnswerAfterRestartMaxMs)}`);
  }
  if (r.recovery.trunk) lines.push(`trunk: tasks taken over from a dead trunk by a live one: ${r.recovery.trunk.takenOver}`);
  lines.push(
    '',
    'recovery = from the kill until the last task that was in flight at the kill (sent, then accepted) is answered;',
    'restart = from the kill until the replacement is ready (worker respawned, Redis reloaded from its append-only file, or a replica serving in its place);',
    'wrong = an answer that is not what an exit allowed to answer gives for that digit (onnxruntime in this process), or another',
    "request's answer, or a synchronous answer that differs from the job's stored one; lost = accepted (200/202/504) and not",
    'answered by the end; refused (503, 429, ...) requests were not accepted. Job answers are polled every 100 ms.',
    '',
    r.passed ? 'PASSED: no accepted task lost, none wrong' : 'FAILED: accepted tasks were lost or wrong, or requests got no reply',
    ...l.examples,
  );
  return lines.join('\n');
}
