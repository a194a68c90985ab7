import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { HANDOFF_TTL_MS, answerKey, featureKey, inputKey } from '@outlet/contracts';
import { loadModelPackage } from '@outlet/model-package';
import { quantile } from '@outlet/profiler';
import { OutletSystem } from '@outlet/supervisor';
import { createRedisClient, listFeatureFiles } from '@outlet/transport';
import { ReferenceAnswers } from './answer-check';
import { LinePanel, lineChartSvg } from './line-chart';
import { heldOutRequests } from './request-set';
import { featureRoot, waitUntilModelReady } from './system-setup';
import { LoadSummary, TaskLoad } from './task-load';

export interface SoakOptions {
  model: string;
  modelsDir: string;
  minutes: number;
  ratePerS: number;
  asyncShare: number;
  plans: string[];
  digits: number;
  sampleMs: number;
  log: (line: string) => void;
}

/** Leftovers of tasks: Redis keys by kind and feature files in the node's folder. */
export interface Leftovers {
  inputs: number;
  features: number;
  answers: number;
  featureFiles: number;
}

export interface SoakSample extends Leftovers {
  /** Seconds from the start of the load. */
  tS: number;
  /** VmRSS per process, MB (absent once a process has exited). */
  rssMb: Record<string, number | undefined>;
  redisUsedMb: number;
  /** Tasks sent or accepted and not settled (what may hold an input key or a feature). */
  inFlight: number;
  /** Tasks answered within an answer key's lifetime (what may hold an answer key). */
  answeredWithinTtl: number;
  /** Tasks answered within the last second: their trunk may not have removed their input and features yet (it does so just after the answer). */
  answeredJustNow: number;
  loadOn: boolean;
}

export interface MemoryRow {
  name: string;
  warmMb: number;
  endMb: number;
  maxMb: number;
  changePct: number;
}

export interface SoakReport {
  model: string;
  options: Omit<SoakOptions, 'log'>;
  warmupS: number;
  loadS: number;
  rows: MemoryRow[];
  /** Every process's RSS at the end within 10% of its RSS after warm-up. */
  rssFlat: boolean;
  /** Samples during the load whose keys or files exceed what the tasks then in flight (and answered within the TTL) explain. */
  unexplainedSamples: number;
  leftovers: Leftovers;
  /** Seconds from the end of the load until no leftovers remained (null: some remained at the deadline). */
  settledAfterS: number | null;
  load: LoadSummary;
  samples: SoakSample[];
}

const NODE = 'soak-node';
const RSS_FLAT_PCT = 10;

/**
 * Warm-up: the first 10% of the run, at least two minutes, at most half the run. At 20 tasks/s,
 * Redis fills its job retention (OUTLET_JOB_RETENTION finished jobs per queue; the branch queue
 * fills slowest) in about 100 s, and the workers' V8 heaps settle after their first major
 * garbage collection, about a minute in.
 */
export function warmupSeconds(loadS: number): number {
  return Math.min(Math.max(120, loadS * 0.1), loadS / 2);
}

/** VmRSS of a process in MB, from /proc (undefined when it is gone). */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

/**
 * `outlet soak`: the system (Redis, a gateway, one node) under a steady load for N minutes,
 * sampling every process's RSS, Redis memory and the keys and files tasks leave; then the load
 * stops and the leftovers must go (answers expire after their TTL, everything else at once).
 */
export class SoakRun {
  private system!: OutletSystem;
  private redis!: Redis;
  private load!: TaskLoad;
  private featureDir = '';
  private earlyExits = 0;
  private loadStartedAt = 0;
  private readonly samples: SoakSample[] = [];

  constructor(private readonly o: SoakOptions) {}

  async run(): Promise<SoakReport> {
    const o = this.o;
    const pkg = loadModelPackage(join(o.modelsDir, o.model));
    const inputs = heldOutRequests(pkg.manifest, o.digits).map((r) => r.pixels);
    const reference = await ReferenceAnswers.compute(pkg, inputs);
    const features = mkdtempSync(join(featureRoot(), 'soak-'));
    this.featureDir = join(features, NODE);
    this.earlyExits = pkg.manifest.exits.length - 1;
    try {
      o.log(`starting Redis, a gateway and node ${NODE}`);
      this.system = await OutletSystem.start({
        quiet: true,
        env: { OUTLET_MODELS_DIR: o.modelsDir, OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_DIR: features },
        nodes: [{ nodeId: NODE }],
      });
      await waitUntilModelReady(this.system.baseUrl, o.model, 60_000);
      this.redis = createRedisClient(this.system.redisUrl, { maxRetriesPerRequest: 3 });
      this.load = new TaskLoad({ baseUrl: this.system.baseUrl, manifest: pkg.manifest, inputs, reference, ratePerS: o.ratePerS, asyncShare: o.asyncShare, plans: o.plans });
      return await this.drive();
    } finally {
      this.redis?.disconnect();
      await this.system?.stop();
      rmSync(features, { recursive: true, force: true });
    }
  }

  private async drive(): Promise<SoakReport> {
    const o = this.o;
    const loadS = o.minutes * 60;
    const warmupS = warmupSeconds(loadS);
    o.log(`load: ${o.ratePerS} tasks/s for ${o.minutes} min (warm-up: the first ${warmupS.toFixed(0)} s), a sample every ${o.sampleMs / 1000} s`);
    this.loadStartedAt = performance.now();
    this.load.start();
    const serving = await this.load.waitFor(() => this.load.records.some((r) => r.outcome === 'answered'), performance.now() + 60_000);
    if (!serving) throw new Error('the system answered no task within the first minute of load');
    let loadOn = true;
    const sampler = this.sampleEvery(o.sampleMs, () => loadOn);
    const loadEnds = this.loadStartedAt + loadS * 1000;
    for (let next = 60; next < loadS; next += 60) {
      await new Promise((r) => setTimeout(r, this.loadStartedAt + next * 1000 - performance.now()));
      const last = this.samples[this.samples.length - 1];
      if (last) o.log(`${(next / 60).toFixed(0)} min: ${this.load.records.length} tasks sent; RSS ${Object.entries(last.rssMb).map(([k, v]) => `${k} ${v?.toFixed(0)}`).join(', ')} MB; Redis ${last.redisUsedMb.toFixed(1)} MB`);
    }
    await new Promise((r) => setTimeout(r, loadEnds - performance.now()));
    await this.load.stop();
    loadOn = false;
    const stoppedAt = performance.now();
    const loadRows = this.samples.filter((s) => s.loadOn);
    await this.load.drain(stoppedAt + 90_000);
    o.log(`load stopped after ${this.load.records.length} tasks; waiting for leftovers to go (answers expire ${HANDOFF_TTL_MS / 1000} s after they are set)`);
    // Answer keys outlive their task by their TTL; everything else should be gone once every task settled.
    const settleDeadline = stoppedAt + HANDOFF_TTL_MS + 30_000;
    let leftovers = await this.leftovers();
    while (total(leftovers) > 0 && performance.now() < settleDeadline) {
      await new Promise((r) => setTimeout(r, 1_000));
      leftovers = await this.leftovers();
    }
    const settledAfterS = total(leftovers) === 0 ? (performance.now() - stoppedAt) / 1000 : null;
    await sampler.stop();
    const rows = memoryRows(loadRows, warmupS, loadS);
    return {
      model: o.model,
      options: { ...o, log: undefined } as Omit<SoakOptions, 'log'>,
      warmupS,
      loadS,
      rows,
      rssFlat: rows.every((r) => r.name === 'redis used_memory' || Math.abs(r.changePct) <= RSS_FLAT_PCT) && loadRows.every((s) => Object.values(s.rssMb).every((v) => v !== undefined)),
      unexplainedSamples: loadRows.filter((s) => unexplained(s, this.earlyExits)).length,
      leftovers,
      settledAfterS,
      load: this.load.summary(),
      samples: this.samples,
    };
  }

  private async leftovers(): Promise<Leftovers> {
    const [inputs, features, answers] = await Promise.all([inputKey('*'), featureKey('*', 0).replace(/:0$/, ':*'), answerKey('*')].map((p) => countKeys(this.redis, p)));
    return { inputs, features, answers, featureFiles: listFeatureFiles(this.featureDir).length };
  }

  /** Samples on a timer (pacing) until stopped. */
  private sampleEvery(periodMs: number, loadOn: () => boolean): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        await this.sample(loadOn());
        await new Promise((r) => setTimeout(r, periodMs));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  private async sample(loadOn: boolean): Promise<void> {
    const now = performance.now();
    const node = this.system.nodes[0];
    const memory = await this.redis.info('memory');
    const used = /used_memory:(\d+)/.exec(memory);
    this.samples.push({
      tS: (now - this.loadStartedAt) / 1000,
      rssMb: {
        gateway: rssMb(this.system.gateway.pid),
        trunk: rssMb(node.trunk.pid),
        branch: rssMb(node.branch.pid),
        redis: rssMb(this.system.privateRedis?.server.pid),
      },
      redisUsedMb: used ? Number(used[1]) / 1048576 : NaN,
      ...(await this.leftovers()),
      inFlight: this.load.unsettledAt(now).length,
      answeredWithinTtl: this.load.records.filter((r) => r.answeredAt !== undefined && r.answeredAt > now - HANDOFF_TTL_MS).length,
      answeredJustNow: this.load.records.filter((r) => r.answeredAt !== undefined && r.answeredAt > now - 1_000).length,
      loadOn,
    });
  }
}

const total = (l: Leftovers) => l.inputs + l.features + l.answers + l.featureFiles;

/**
 * Keys or files that the tasks of the moment do not explain: an input key or a feature (key or
 * file; at most one per early exit) needs a task in flight or just answered, an answer key a task
 * in flight or answered within the answer's TTL.
 */
function unexplained(s: SoakSample, earlyExits: number): boolean {
  const live = s.inFlight + s.answeredJustNow;
  return s.inputs > live || s.features + s.featureFiles > earlyExits * live || s.answers > s.inFlight + s.answeredWithinTtl;
}

/** How long the "after warm-up" and "end" windows are: a minute, or a quarter of the time after warm-up when that is shorter. */
export function windowSeconds(loadS: number, warmupS: number): number {
  return Math.min(60, (loadS - warmupS) / 4);
}

/**
 * Per process: the median RSS in the window right after warm-up and in the last window under load
 * (medians, so that one garbage collection does not decide), the max after warm-up, and the change.
 */
function memoryRows(samples: SoakSample[], warmupS: number, loadS: number): MemoryRow[] {
  const after = samples.filter((s) => s.tS >= warmupS);
  if (!after.length) return [];
  const window = windowSeconds(loadS, warmupS);
  const median = (v: number[]) => quantile([...v].sort((a, b) => a - b), 0.5);
  const series: [string, (s: SoakSample) => number | undefined][] = [
    ...Object.keys(after[0].rssMb).map((name) => [name, (s: SoakSample) => s.rssMb[name]] as [string, (s: SoakSample) => number | undefined]),
    ['redis used_memory', (s) => s.redisUsedMb],
  ];
  const values = (rows: SoakSample[], pick: (s: SoakSample) => number | undefined) => rows.map(pick).filter((v): v is number => v !== undefined);
  return series.map(([name, pick]) => {
    const warmMb = median(values(after.filter((s) => s.tS < warmupS + window), pick));
    const endMb = median(values(after.filter((s) => s.tS >= loadS - window), pick));
    return { name, warmMb, endMb, maxMb: Math.max(...values(after, pick)), changePct: ((endMb - warmMb) / warmMb) * 100 };
  });
}

/** RSS per process and Redis memory over time; keys and feature files over time. */
export function soakChartSvg(r: SoakReport): string {
  const minutes = (s: number) => s / 60;
  const markers = [
    { x: minutes(r.warmupS), label: 'warm-up ends' },
    { x: minutes(r.loadS), label: 'load stops' },
  ];
  const names = Object.keys(r.samples[0]?.rssMb ?? {});
  const memory: LinePanel = {
    title: `${r.model}: memory over ${r.options.minutes} min at ${r.options.ratePerS} tasks/s`,
    xLabel: 'minutes from the start of the load',
    yLabel: 'MB',
    markers,
    series: [
      ...names.map((name) => ({ name: `RSS ${name}`, points: r.samples.filter((s) => s.rssMb[name] !== undefined).map((s) => [minutes(s.tS), s.rssMb[name]!] as [number, number]) })),
      { name: 'Redis used_memory', dashed: true, points: r.samples.map((s) => [minutes(s.tS), s.redisUsedMb] as [number, number]) },
    ],
  };
  const keys: LinePanel = {
    title: 'Task leftovers in Redis and /dev/shm',
    xLabel: 'minutes from the start of the load',
    yLabel: 'count',
    markers,
    series: [
      { name: 'answer keys', points: r.samples.map((s) => [minutes(s.tS), s.answers]) },
      { name: 'input keys', points: r.samples.map((s) => [minutes(s.tS), s.inputs]) },
      { name: 'feature keys', points: r.samples.map((s) => [minutes(s.tS), s.features]) },
      { name: 'feature files', points: r.samples.map((s) => [minutes(s.tS), s.featureFiles]) },
      { name: 'tasks in flight', dashed: true, points: r.samples.map((s) => [minutes(s.tS), s.inFlight]) },
    ],
  };
  return lineChartSvg([memory, keys]);
}

/** The soak report as text: the memory table, the verdicts, the leftovers. */
export function soakText(r: SoakReport): string {
  const l = r.load;
  const f = (v: number) => v.toFixed(1).padStart(9);
  const lines = [
    `outlet soak: ${r.model}, ${r.options.minutes} min at ${r.options.ratePerS} tasks/s (${l.sent} tasks: ${l.answered} answered, ${l.lost} lost, ${l.wrong} wrong, ${l.refused} refused)`,
    `warm-up: the first ${r.warmupS.toFixed(0)} s (10% of the run, at least 2 min, at most half); "after warm-up" and "end" are medians of the samples ` +
      `in the ${windowSeconds(r.loadS, r.warmupS).toFixed(0)} s after warm-up and the last ${windowSeconds(r.loadS, r.warmupS).toFixed(0)} s under load`,
    '',
    `${'process'.padEnd(20)}${'after warm-up MB'.padStart(17)}${'end MB'.padStart(9)}${'max MB'.padStart(9)}${'change'.padStart(9)}`,
    ...r.rows.map((row) => `${row.name.padEnd(20)}${f(row.warmMb).padStart(17)}${f(row.endMb)}${f(row.maxMb)}${`${row.changePct >= 0 ? '+' : ''}${row.changePct.toFixed(1)}%`.padStart(9)}`),
    '',
    `RSS flat within ${RSS_FLAT_PCT}% after warm-up: ${r.rssFlat ? 'yes' : 'no'}`,
    `samples under load with keys or files beyond what tasks in flight explain: ${r.unexplainedSamples} of ${r.samples.filter((s) => s.loadOn).length}`,
    `leftovers after the load stopped and settled: ${r.leftovers.inputs} input keys, ${r.leftovers.features} feature keys, ${r.leftovers.answers} answer keys, ${r.leftovers.featureFiles} feature files` +
      (r.settledAfterS === null ? ' (NOT gone at the deadline)' : ` (none left ${r.settledAfterS.toFixed(0)} s after the load stopped)`),
  ];
  return lines.join('\n');
}
