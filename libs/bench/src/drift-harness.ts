/**
 * `outlet bench --drift`: exit thresholds under data drift, through the real system. For each
 * model and corruption, a run of clean → corrupted → clean tasks at concurrency 1 on a fresh
 * system (fresh Redis: thresholds start from the offline calibration), once with static
 * thresholds (OUTLET_ADAPT=off) and once adaptive (default settings); each answer is compared with
 * the model's own final exit on the same input, computed in process. Then the audits' cost on
 * clean data at concurrency 4: audits on and off in alternating blocks, each on a fresh system.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { argMax } from '@outlet/inference';
import { ModelPackage, loadModelPackage } from '@outlet/model-package';
import { stageTimes } from '@outlet/predictor';
import { OutletSystem } from '@outlet/supervisor';
import { SystemPlacement, startPlacedSystem } from './harness';
import {
  CorruptionName,
  DigitRef,
  DriftPhase,
  DriftSample,
  DriftTask,
  ExitOutcome,
  PhaseMetrics,
  ThresholdHistoryEntry,
  describeCorruption,
  driftTasks,
  heldOutPool,
  lastVersion,
  makeInput,
  noiseSigma,
  phaseMetrics,
  ruleExit,
  seededShuffle,
  versionAt,
} from './drift';
import { ReferenceJob, ReferenceThreadData, ReferenceThreadMessage } from './drift-reference-thread';
import { encodeBodies, httpRequest } from './http-driver';
import { MNIST_SIDE, heldOutDigit } from './mnist';
import { LatencyStats, latencyStats } from './stats';
import { waitUntilModelReady } from './system-setup';

export const DRIFT_MODES = ['static', 'adaptive'] as const;
export type DriftMode = (typeof DRIFT_MODES)[number];

export interface AuditCostOptions {
  /** Closed-loop clients. */
  concurrency: number;
  /** Length of a block, seconds (its clients cycle over AUDIT_COST_INPUTS clean inputs until then). */
  seconds: number;
  /** Pairs of blocks (audits on and off). */
  rounds: number;
  /** OUTLET_AUDIT_RATE of the blocks with audits on. */
  rate: number;
}

export interface DriftBenchOptions extends SystemPlacement {
  models: string[];
  modelsDir: string;
  corruptions: CorruptionName[];
  modes: DriftMode[];
  /** Tasks of the three phases: clean, corrupted, clean again. */
  phases: [number, number, number];
  /** The corrupted phase's criterion counts agreement after its first `settle` tasks. */
  settle: number;
  /**
   * The share of time the one client keeps the system busy (1: a closed loop, the next task as soon
   * as an answer comes). Below 1 the client waits after each answer for its latency × (1/load − 1),
   * as a node that is not saturated sees its traffic, leaving idle time that the audits use.
   */
  load: number;
  seed: number;
  /** Threads computing the in-process reference (before any system starts). */
  referenceThreads: number;
  /** Absent: no audit-cost blocks. */
  auditCost?: AuditCostOptions;
  log: (line: string) => void;
}

/** The settings a run's processes got (empty: the system's default). */
export type AccuracyEnv = Record<'OUTLET_ADAPT' | 'OUTLET_AUDIT_RATE' | 'OUTLET_AUDIT_MAX_RATE' | 'OUTLET_ACCURACY_BUDGET', string>;

/** The offline thresholds applied to the in-process outcomes, phase by phase: what static thresholds give by the exit rule alone. */
export interface OfflineRulePhase {
  agreement: number;
  meanSegments: number;
}

export interface DriftRun {
  mode: DriftMode;
  env: AccuracyEnv;
  phases: PhaseMetrics[];
  /** Whether the answers carried parameters.threshold_version (otherwise versions come from the history's times). */
  versionSource: 'answers' | 'history times' | 'none';
  /** GET /v1/models/{m}/thresholds at the end (absent where the gateway has no such route). */
  thresholdsAtEnd?: { version: number; thresholds: number[]; auditRate?: number; adapt?: boolean };
  history: ThresholdHistoryEntry[];
  /** outlet_audited_tasks_total / outlet_audits_dropped_total at the end (absent without them). */
  audits?: { run: number; dropped: number };
  wallS: number;
  /** The gateway's and the trunk's log lines about thresholds and plans (new versions, plans made again), in order. */
  events: { at: number; process: 'gateway' | 'trunk'; line: string }[];
  /** Per task, in order (compact columns for the JSON and the chart). */
  columns: { agree: (0 | 1 | null)[]; segments: (number | null)[]; version: (number | null)[]; latencyMs: (number | null)[] };
}

export interface DriftCorruptionReport {
  corruption: CorruptionName;
  description: string;
  phases: DriftPhase[];
  /** Per phase: the offline thresholds by the exit rule on the in-process outcomes. */
  offlineRule: OfflineRulePhase[];
  runs: DriftRun[];
}

export interface AuditBlock {
  audits: 'on' | 'off';
  rate: number;
  tasks: number;
  errors: number;
  throughputPerS: number;
  latency: LatencyStats;
  /** The trunk worker's CPU time (all its threads, /proc) per task, from the block's start until its trunk was idle again. */
  trunkCpuMsPerTask?: number;
  /** Audits run while the block's tasks were answered, and after its last answer (behind it). */
  auditsDuring?: number;
  auditsAfter?: number;
  auditsDropped?: number;
  /** From the block's last answer until the trunk was idle (the audit backlog drained). */
  drainMs: number;
}

export interface AuditCostReport {
  concurrency: number;
  /** Length of each block, s. */
  seconds: number;
  rate: number;
  blocks: AuditBlock[];
  on: { throughputPerS: number; latency: LatencyStats; trunkCpuMsPerTask?: number; audits?: number; dropped?: number; tasks: number };
  off: { throughputPerS: number; latency: LatencyStats; trunkCpuMsPerTask?: number; tasks: number };
  /** The full network with every head (one audit), ms, from profile.json (the trunk's EP, no load). */
  fullNetworkMs?: number;
  /** Measured: trunk CPU ms per task, on − off. */
  extraTrunkMsPerTask?: number;
  /** Estimated: audits run × fullNetworkMs / tasks (on blocks). */
  estimatedExtraTrunkMsPerTask?: number;
}

export interface DriftModelReport {
  model: string;
  modelVersion: string;
  offlineThresholds: number[];
  segmentsPerExit: number[];
  noiseSigma: number;
  referenceS: number;
  distinctInputs: number;
  corruptions: DriftCorruptionReport[];
  auditCost?: AuditCostReport;
}

export interface DriftReport {
  machine: { hostname: string; cpus: number; cpuModel?: string };
  options: Omit<DriftBenchOptions, 'log'>;
  models: DriftModelReport[];
}

/** Distinct clean inputs the audit-cost blocks cycle over. */
export const AUDIT_COST_INPUTS = 200;

/**
 * A closed loop for a fixed time: `concurrency` clients, each sends its next body (cycling over
 * `bodies`) when its last answer came, until `ms` have passed; requests in flight then finish.
 */
export async function timedClosedLoop(url: string, bodies: string[], concurrency: number, ms: number): Promise<{ latenciesMs: number[]; errors: string[]; wallMs: number }> {
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + ms;
  const client = async () => {
    while (performance.now() < deadline) {
      const body = bodies[next++ % bodies.length];
      const sent = performance.now();
      try {
        const res = await post(url, body);
        if (res.status === 200) latenciesMs.push(performance.now() - sent);
        else errors.push(`${res.status}: ${res.text.slice(0, 200)}`);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { latenciesMs, errors, wallMs: performance.now() - started };
}

const EMPTY_ENV: AccuracyEnv = { OUTLET_ADAPT: '', OUTLET_AUDIT_RATE: '', OUTLET_AUDIT_MAX_RATE: '', OUTLET_ACCURACY_BUDGET: '' };

/** Move every thread of this process to `cpus` (taskset); undefined leaves it where it is. */
function pinThisProcess(list: string | undefined): void {
  if (list) execFileSync('taskset', ['-a', '-p', '-c', list, String(process.pid)], { stdio: 'ignore' });
}

let clockTicks: number | undefined;
/** CPU time (user + system, every thread) of a process so far, ms; undefined when /proc cannot tell. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, utime 14 and stime 15 (1-based).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Until the process uses under 10 % of a core for a whole second (or `maxMs` passed); returns the time waited, ms. */
async function waitIdle(pid: number | undefined, maxMs = 120_000): Promise<number> {
  const started = performance.now();
  let last = processCpuMs(pid);
  if (last === undefined) return 0;
  let quiet = 0;
  while (performance.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = processCpuMs(pid);
    if (now === undefined) break;
    quiet = now - last < 25 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 4) return Math.max(0, performance.now() - started - 1000);
  }
  return performance.now() - started;
}

/** A Prometheus counter summed over the lines whose labels hold model="name". */
export function counterValue(metricsText: string, metric: string, model: string): number | undefined {
  let total: number | undefined;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (!line.includes(`model="${model}"`)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) total = (total ?? 0) + v;
  }
  return total;
}

async function auditCounters(baseUrl: string, model: string): Promise<{ run: number; dropped: number } | undefined> {
  const res = await httpRequest('GET', `${baseUrl}/metrics`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const run = counterValue(res.text, 'outlet_audited_tasks_total', model);
  if (run === undefined) return undefined;
  return { run, dropped: counterValue(res.text, 'outlet_audits_dropped_total', model) ?? 0 };
}

/** GET /v1/models/{m}/thresholds: the live version and the history (at as ms), or undefined where there is no such route. */
async function fetchThresholds(baseUrl: string, model: string): Promise<{ live: DriftRun['thresholdsAtEnd']; history: ThresholdHistoryEntry[] } | undefined> {
  const res = await httpRequest('GET', `${baseUrl}/v1/models/${model}/thresholds?history=200`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const body = JSON.parse(res.text) as {
    version: number;
    thresholds: number[];
    audit_rate?: number;
    adapt?: boolean;
    history?: { version: number; at: string | number; thresholds: number[]; kind?: string; reason?: string }[];
  };
  const history = (body.history ?? [])
    .map((h) => ({ version: h.version, at: typeof h.at === 'number' ? h.at : Date.parse(h.at), thresholds: h.thresholds, kind: h.kind, reason: h.reason }))
    .sort((a, b) => a.version - b.version);
  return { live: { version: body.version, thresholds: body.thresholds, auditRate: body.audit_rate, adapt: body.adapt }, history };
}

/** One POST, retried once when a kept-alive socket was closed under it (it never reached the server). */
async function post(url: string, body: string) {
  try {
    return await httpRequest('POST', url, body);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || /socket hang up/.test((err as Error).message)) return httpRequest('POST', url, body);
    throw err;
  }
}

/** The request body of one input (JSON, FP32 values). */
function inferBody(id: string, pkg: ModelPackage, pixels: Float32Array): string {
  const m = pkg.manifest;
  return JSON.stringify({ id, inputs: [{ name: m.input.name, shape: [1, ...m.input.shape.slice(1)], datatype: 'FP32', data: Array.from(pixels) }] });
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

export class DriftBench {
  private readonly pool: DigitRef[];

  constructor(private readonly options: DriftBenchOptions) {
    this.pool = heldOutPool();
  }

  async run(): Promise<DriftReport> {
    const o = this.options;
    const models: DriftModelReport[] = [];
    for (const name of o.models) models.push(await this.model(name));
    return {
      machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model },
      options: { ...o, log: undefined } as Omit<DriftBenchOptions, 'log'>,
      models,
    };
  }

  private async model(name: string): Promise<DriftModelReport> {
    const o = this.options;
    const pkg = loadModelPackage(join(o.modelsDir, name));
    const m = pkg.manifest;
    const [, channels, height, width] = m.input.shape;
    if (channels !== 1 || height !== width || height % MNIST_SIDE !== 0) throw new Error(`${name}: input ${JSON.stringify(m.input.shape)} is not a 1-channel multiple of 28x28`);
    const sigma = noiseSigma(name);
    const segmentsPerExit = m.exits.map((e) => e.after_segment + 1);
    const offline = m.exits.map((e) => e.threshold);
    const plans = o.corruptions.map((c) => ({ corruption: c, ...driftTasks(this.pool, o.phases, c, height, sigma, o.seed) }));

    // The reference: every exit of every distinct input, in process, before any system runs.
    const started = performance.now();
    const reference = await this.reference(pkg, plans.flatMap((p) => p.tasks));
    const referenceS = (performance.now() - started) / 1000;
    o.log(`${name}: in-process reference of ${reference.size} distinct inputs in ${referenceS.toFixed(1)} s`);

    pinThisProcess(o.supportCpus);
    try {
      const corruptions: DriftCorruptionReport[] = [];
      for (const plan of plans) {
        const offlineRule = plan.phases.map((ph) => {
          const outcomes = plan.tasks.slice(ph.start, ph.start + ph.count).map((t) => reference.get(t.key)!);
          const exits = outcomes.map((x) => ruleExit(x, offline));
          return {
            agreement: mean(outcomes.map((x, k) => (x[exits[k]].label === x[x.length - 1].label ? 1 : 0))),
            meanSegments: mean(exits.map((e) => segmentsPerExit[e])),
          };
        });
        const runs: DriftRun[] = [];
        for (const mode of o.modes) runs.push(await this.driftRun(pkg, plan.phases, plan.tasks, reference, mode));
        corruptions.push({ corruption: plan.corruption, description: describeCorruption(plan.corruption, name, height / MNIST_SIDE), phases: plan.phases, offlineRule, runs });
      }
      const auditCost = o.auditCost ? await this.auditCost(pkg, o.auditCost) : undefined;
      return { model: name, modelVersion: m.version, offlineThresholds: offline, segmentsPerExit, noiseSigma: sigma, referenceS, distinctInputs: reference.size, corruptions, auditCost };
    } finally {
      pinThisProcess(`0-${cpus().length - 1}`);
    }
  }

  /** Every exit's outcome per distinct input (by task key), split over worker threads. */
  private async reference(pkg: ModelPackage, tasks: DriftTask[]): Promise<Map<string, ExitOutcome[]>> {
    const jobs = new Map<string, ReferenceJob>();
    for (const t of tasks) if (!jobs.has(t.key)) jobs.set(t.key, { key: t.key, label: t.label, nth: t.nth, recipe: t.recipe });
    const all = [...jobs.values()];
    const threads = Math.max(1, Math.min(this.options.referenceThreads, all.length));
    const chunks = Array.from({ length: threads }, (_, k) => all.filter((_, i) => i % threads === k));
    const done = new Array<number>(threads).fill(0);
    let lastLog = performance.now();
    const results = await Promise.all(
      chunks.map(
        (chunk, k) =>
          new Promise<ExitOutcome[][]>((resolve, reject) => {
            const data: ReferenceThreadData = { modelDir: pkg.dir, jobs: chunk, batch: 4 };
            const worker = new Worker(join(__dirname, 'drift-reference-thread.js'), { workerData: data });
            worker.on('message', (msg: ReferenceThreadMessage) => {
              if ('done' in msg) {
                done[k] = msg.done;
                if (performance.now() - lastLog > 15_000) {
                  lastLog = performance.now();
                  this.options.log(`${pkg.manifest.name}: reference ${done.reduce((a, b) => a + b, 0)}/${all.length}`);
                }
              } else if ('outcomes' in msg) {
                resolve(msg.outcomes); // the thread ends by itself, its sessions released
              } else {
                reject(new Error(`reference thread: ${msg.error}`));
                void worker.terminate();
              }
            });
            worker.once('error', reject);
          }),
      ),
    );
    const out = new Map<string, ExitOutcome[]>();
    chunks.forEach((chunk, k) => chunk.forEach((job, i) => out.set(job.key, results[k][i])));
    return out;
  }

  private startSystem(env: AccuracyEnv): Promise<OutletSystem> {
    const o = this.options;
    return startPlacedSystem(o, o.modelsDir, 'drift-node', { OUTLET_JOB_RETENTION: '1000', ...env });
  }

  /** `count` clean held-out digits as model inputs, drawn apart from the runs' own sequence. */
  private cleanInputs(pkg: ModelPackage, count: number, seed: number): { label: number; pixels: Float32Array }[] {
    const side = pkg.manifest.input.shape[2];
    return seededShuffle(this.pool, seed)
      .slice(0, count)
      .map((d) => ({ label: d.label, pixels: makeInput(heldOutDigit(d.label, d.nth), { kind: 'clean', side }) }));
  }

  private async warmUp(system: OutletSystem, pkg: ModelPackage): Promise<void> {
    const url = `${system.baseUrl}/v2/models/${pkg.manifest.name}/infer`;
    await waitUntilModelReady(system.baseUrl, pkg.manifest.name, 60_000);
    const inputs = this.cleanInputs(pkg, this.options.warmup, this.options.seed ^ 0x5eed);
    for (const [k, x] of inputs.entries()) await post(url, inferBody(`warmup-${k}`, pkg, x.pixels));
    await waitIdle(system.nodes[0].trunk.pid);
  }

  private async driftRun(pkg: ModelPackage, phases: DriftPhase[], tasks: DriftTask[], reference: Map<string, ExitOutcome[]>, mode: DriftMode): Promise<DriftRun> {
    const o = this.options;
    const m = pkg.manifest;
    const env: AccuracyEnv = { ...EMPTY_ENV, OUTLET_ADAPT: mode === 'static' ? 'off' : 'on' };
    const corruption = phases[1].kind;
    o.log(`${m.name} ${corruption} ${mode}: fresh system (OUTLET_ADAPT=${env.OUTLET_ADAPT}, other accuracy settings default), ${tasks.length} tasks at c=1, load ${o.load}`);
    const system = await this.startSystem(env);
    const events: DriftRun['events'] = [];
    const watch = (process: 'gateway' | 'trunk') => (line: string) => {
      // eslint-disable-next-line no-control-regex
      const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
      if (events.length < 1000 && /thresholds v\d+|plans made again|OUTLET_ADAPT/.test(plain)) events.push({ at: Date.now(), process, line: plain.trim() });
    };
    const untap = [system.gateway.tap(watch('gateway')), system.nodes[0].trunk.tap(watch('trunk'))];
    const samples: DriftSample[] = [];
    const started = performance.now();
    let thresholds: Awaited<ReturnType<typeof fetchThresholds>>;
    let audits: DriftRun['audits'];
    try {
      await this.warmUp(system, pkg);
      const url = `${system.baseUrl}/v2/models/${m.name}/infer`;
      let nextLog = performance.now() + 20_000;
      for (const t of tasks) {
        const finalOutcome = reference.get(t.key)!;
        const body = inferBody(`drift-${t.index}`, pkg, makeInput(heldOutDigit(t.label, t.nth), t.recipe));
        const sent = performance.now();
        const sample: DriftSample = { index: t.index, phase: t.phase, label: t.label, finalLabel: finalOutcome[finalOutcome.length - 1].label, latencyMs: 0, at: 0 };
        try {
          const res = await post(url, body);
          sample.latencyMs = performance.now() - sent;
          sample.at = Date.now();
          if (res.status !== 200) throw new Error(`${res.status}: ${res.text.slice(0, 200)}`);
          const answer = JSON.parse(res.text) as { outputs: { data: number[] }[]; parameters: Record<string, unknown> };
          sample.answerLabel = argMax(answer.outputs[0].data);
          sample.exitIndex = Number(answer.parameters.exit_index);
          const v = answer.parameters.threshold_version;
          if (typeof v === 'number' && Number.isFinite(v)) sample.thresholdVersion = v;
          if (typeof answer.parameters.task_id === 'string') sample.taskId = answer.parameters.task_id;
          if (typeof answer.parameters.plan === 'string') sample.plan = answer.parameters.plan;
        } catch (err) {
          sample.latencyMs = performance.now() - sent;
          sample.at = Date.now();
          sample.error = (err as Error).message;
        }
        samples.push(sample);
        if (o.load < 1) await new Promise((r) => setTimeout(r, sample.latencyMs * (1 / o.load - 1)));
        if (performance.now() > nextLog) {
          nextLog = performance.now() + 20_000;
          o.log(`  ${samples.length}/${tasks.length} (${phases[t.phase].name})`);
        }
      }
      thresholds = await fetchThresholds(system.baseUrl, m.name);
      audits = await auditCounters(system.baseUrl, m.name);
    } finally {
      untap.forEach((u) => u());
      await system.stop();
    }
    const wallS = (performance.now() - started) / 1000;
    const history = thresholds?.history ?? [];
    let versionSource: DriftRun['versionSource'] = samples.some((s) => s.thresholdVersion !== undefined) ? 'answers' : 'none';
    if (versionSource === 'none' && history.length) {
      for (const s of samples) if (!s.error) s.thresholdVersion = versionAt(history, s.at);
      versionSource = 'history times';
    }
    const perPhase = phases.map((ph) => samples.slice(ph.start, ph.start + ph.count));
    const metrics = phases.map((ph, p) =>
      phaseMetrics(ph, perPhase[p], m.exits.map((e) => e.after_segment + 1), {
        versionBefore: p === 0 ? undefined : lastVersion(perPhase[p - 1]),
        skip: p === 1 ? Math.min(o.settle, ph.count) : undefined,
        lastThird: p === 2,
      }),
    );
    const segmentsPerExit = m.exits.map((e) => e.after_segment + 1);
    const round2 = (v: number) => Math.round(v * 100) / 100;
    const columns: DriftRun['columns'] = {
      agree: samples.map((s) => (s.answerLabel === undefined ? null : s.answerLabel === s.finalLabel ? 1 : 0)),
      segments: samples.map((s) => (s.exitIndex === undefined ? null : segmentsPerExit[s.exitIndex] ?? null)),
      version: samples.map((s) => s.thresholdVersion ?? null),
      latencyMs: samples.map((s) => (s.error ? null : round2(s.latencyMs))),
    };
    const corrupted = metrics[1];
    o.log(
      `  done in ${wallS.toFixed(0)} s: agreement ${metrics.map((x) => (100 * x.agreement).toFixed(1)).join(' / ')} % ` +
        `(corrupted after ${corrupted.after?.skip}: ${(100 * (corrupted.after?.agreement ?? NaN)).toFixed(1)} %), thresholds v${thresholds?.live?.version ?? '?'}` +
        `${samples.some((s) => s.error) ? `, ${samples.filter((s) => s.error).length} errors (first: ${samples.find((s) => s.error)!.error})` : ''}`,
    );
    return { mode, env, phases: metrics, versionSource, thresholdsAtEnd: thresholds?.live, history, audits, wallS, events, columns };
  }

  /**
   * Audits on and off in alternating blocks (on, off, off, on, ...: each pair in the other order
   * than the one before, so a steady drift of the machine falls on both alike), each block on a
   * fresh system with OUTLET_ADAPT=off so that the thresholds, and with them the work per task,
   * stay the same in every block.
   */
  private async auditCost(pkg: ModelPackage, a: AuditCostOptions): Promise<AuditCostReport> {
    const o = this.options;
    const m = pkg.manifest;
    const inputs = this.cleanInputs(pkg, AUDIT_COST_INPUTS, o.seed ^ 0xa0d17);
    const bodies = encodeBodies(inputs.map((x) => ({ label: x.label, pixels: x.pixels })), [1, ...m.input.shape.slice(1)], m.input.name, {});
    const order: ('on' | 'off')[] = [];
    for (let r = 0; r < a.rounds; r++) order.push(...((r % 2 === 0 ? ['on', 'off'] : ['off', 'on']) as ('on' | 'off')[]));
    const blocks: AuditBlock[] = [];
    const latencies = { on: [] as number[], off: [] as number[] };
    for (const setting of order) {
      const rate = setting === 'on' ? a.rate : 0;
      o.log(`${m.name} audit cost: block ${blocks.length + 1}/${order.length}, audits ${setting} (OUTLET_AUDIT_RATE=${rate}, OUTLET_ADAPT=off), ${a.seconds} s of clean tasks at c=${a.concurrency}`);
      const system = await this.startSystem({ ...EMPTY_ENV, OUTLET_ADAPT: 'off', OUTLET_AUDIT_RATE: String(rate) });
      try {
        await this.warmUp(system, pkg);
        const pid = system.nodes[0].trunk.pid;
        const before = await auditCounters(system.baseUrl, m.name);
        const cpu0 = processCpuMs(pid);
        const run = await timedClosedLoop(`${system.baseUrl}/v2/models/${m.name}/infer`, bodies, a.concurrency, a.seconds * 1000);
        const during = await auditCounters(system.baseUrl, m.name);
        const drainMs = await waitIdle(pid);
        const after = await auditCounters(system.baseUrl, m.name);
        const cpu1 = processCpuMs(pid);
        const lat = run.latenciesMs;
        latencies[setting].push(...lat);
        const block: AuditBlock = {
          audits: setting,
          rate,
          tasks: lat.length,
          errors: run.errors.length,
          throughputPerS: (lat.length / run.wallMs) * 1000,
          latency: latencyStats(lat),
          trunkCpuMsPerTask: cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / Math.max(1, lat.length) : undefined,
          auditsDuring: before && during ? during.run - before.run : undefined,
          auditsAfter: during && after ? after.run - during.run : undefined,
          auditsDropped: before && after ? after.dropped - before.dropped : undefined,
          drainMs,
        };
        blocks.push(block);
        o.log(
          `  ${block.throughputPerS.toFixed(1)} tasks/s, p50 ${block.latency.p50Ms.toFixed(2)} ms, p99 ${block.latency.p99Ms.toFixed(2)} ms, trunk CPU ${block.trunkCpuMsPerTask?.toFixed(2) ?? '?'} ms/task, ` +
            `audits ${block.auditsDuring ?? '?'} during + ${block.auditsAfter ?? '?'} after (${block.auditsDropped ?? '?'} dropped), drain ${(drainMs / 1000).toFixed(1)} s`,
        );
      } finally {
        await system.stop();
      }
    }
    const side = (s: 'on' | 'off') => {
      const b = blocks.filter((x) => x.audits === s);
      const cpu = b.map((x) => x.trunkCpuMsPerTask).filter((v): v is number => v !== undefined);
      const audits = b.map((x) => (x.auditsDuring ?? NaN) + (x.auditsAfter ?? NaN));
      return {
        throughputPerS: mean(b.map((x) => x.throughputPerS)),
        latency: latencyStats(latencies[s]),
        trunkCpuMsPerTask: cpu.length === b.length && cpu.length ? mean(cpu) : undefined,
        audits: audits.every(Number.isFinite) ? audits.reduce((x, y) => x + y, 0) : undefined,
        dropped: b.every((x) => x.auditsDropped !== undefined) ? b.reduce((x, y) => x + y.auditsDropped!, 0) : undefined,
        tasks: b.reduce((x, y) => x + y.tasks, 0),
      };
    };
    const on = side('on');
    const off = side('off');
    let fullNetworkMs: number | undefined;
    try {
      const t = stageTimes(pkg, o.trunkEp === 'auto' ? 'cpu' : o.trunkEp, 0);
      fullNetworkMs = t.segments.reduce((x, y) => x + y, 0) + m.exits.reduce((x, _, i) => x + (t.fusedHeads?.[i] ?? t.trunkHeads[i]), 0);
    } catch {
      // no profile for this EP
    }
    return {
      concurrency: a.concurrency,
      seconds: a.seconds,
      rate: a.rate,
      blocks,
      on,
      off: { throughputPerS: off.throughputPerS, latency: off.latency, trunkCpuMsPerTask: off.trunkCpuMsPerTask, tasks: off.tasks },
      fullNetworkMs,
      extraTrunkMsPerTask: on.trunkCpuMsPerTask !== undefined && off.trunkCpuMsPerTask !== undefined ? on.trunkCpuMsPerTask - off.trunkCpuMsPerTask : undefined,
      estimatedExtraTrunkMsPerTask: fullNetworkMs !== undefined && on.audits !== undefined ? (on.audits * fullNetworkMs) / Math.max(1, on.tasks) : undefined,
    };
  }
}
