import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExecutionProvider, sessionOptions } from '@outlet/inference';
import { LoadGenerator, measureUtilization, randomFeeds, summarize } from '@outlet/profiler';

/**
 * The noise-controlled measurement protocol of the kernel-level predictor. Per CPU load level
 * (held by the load generator) and per group of models:
 * - every model gets two sessions: a plain one (the whole-call time, what a caller sees) and one
 *   with onnxruntime's profiler on (each kernel's own time, `<node>_kernel_time` events);
 * - once per process, the JavaScript side of a call (onnxruntime-node's wrapper, the promise) is
 *   run until V8 has optimized it (warmUpProcess): a fresh process calls a 10 µs model up to 40 %
 *   slower than one that has made a few thousand calls, as a serving worker has;
 * - warm-up runs (at least `warmup`, and at least WARMUP_MS per plain session), then `runs`
 *   rounds round-robin over the group's models (a group of 1, the default of the fit and of
 *   `outlet predict --measure`: each model alone, run over and over, as a worker runs it), then as
 *   many over the profiled sessions;
 *   each visit runs the model `burst` times and times the last (caches warm from its own run, as
 *   for a model run over and over, not cold from the group's other models);
 * - robust statistics: the median of the whole calls; per kernel the 20 % trimmed mean of its
 *   profiled times (the profiler's warm-up events dropped), which, unlike a median, resolves
 *   below the profiler's whole microseconds;
 * - several plain sessions per model (`sessions`, 4 by default), one after the other, each opened
 *   for its turn and released after it: one
 *   session's buffers can sit badly in the caches and run 10–20 % slower for its whole life, so
 *   the whole-call median pools the runs of all of them;
 * - repeatability: the plain runs of the even and of the odd sessions give two independent
 *   medians (`run_ms_a`, `run_ms_b`); their relative difference is the noise floor.
 * Sessions have an explicit intra-op thread budget and no inter-op threads (sessionOptions), and
 * the measuring thread can be pinned to cores (`cpus`).
 */
export interface MeasuredRun {
  cpu_util: number;
  /** Median whole-call ms of the plain sessions. */
  run_ms: number;
  /** Medians of the even and of the odd plain sessions' runs. */
  run_ms_a: number;
  run_ms_b: number;
  /** Trimmed mean ms of each kernel, by node name of the optimized graph (profiled session). */
  kernel_ms: Record<string, number>;
}

export interface MeasureModel {
  id: string;
  bytes: Uint8Array;
}

export interface KernelMeasureOptions {
  ep: ExecutionProvider;
  threads: number;
  levels: number[];
  warmup: number;
  runs: number;
  /** Models timed round-robin together (1 by default: each alone). */
  groupSize?: number;
  /** Plain sessions per model, timed one after the other (4 by default). */
  sessions?: number;
  /** Runs per visit of a model in a round, the last one timed (2 by default): warm caches, as a model run again and again is. */
  burst?: number;
  /** Stop a group's rounds once this many ms per model are spent (after minRuns). */
  maxMsPerModel?: number;
  minRuns?: number;
  /** Measure whole-call times only (no profiled session). */
  plainOnly?: boolean;
  load?: LoadGenerator;
  /**
   * Cores (taskset list, e.g. "1") for the measuring thread, and for the onnxruntime threads its
   * sessions create; the load generator's threads keep every core. Linux only; unpinned if unset.
   */
  cpus?: string;
  onProgress?: (done: number, total: number, label: string) => void;
}

const median = (xs: number[]) => summarize(xs).median;

/** How far a measurement's two halves are apart, relative to their mean (0.05: 5 %): its noise. */
export function halvesApart(r: Pick<MeasuredRun, 'run_ms_a' | 'run_ms_b'>): number {
  return Math.abs(r.run_ms_a - r.run_ms_b) / ((r.run_ms_a + r.run_ms_b) / 2);
}

/** Mean of the middle (1 − 2·cut) of the values. */
export function trimmedMean(xs: number[], cut = 0.2): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const drop = Math.floor(sorted.length * cut);
  const kept = sorted.length - 2 * drop > 0 ? sorted.slice(drop, sorted.length - drop) : sorted;
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/** Warm-up time per model (ms), beyond the `warmup` runs. */
const WARMUP_MS = 20;
/** Calls that warm up the process's JavaScript path (warmUpProcess), or this many ms. */
const PROCESS_WARMUP_CALLS = 10000;
const PROCESS_WARMUP_MS = 1000;
let processWarm = false;

/** Once per process: call a session until V8 has optimized the JavaScript side of a run. */
async function warmUpProcess(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<void> {
  if (processWarm) return;
  const began = performance.now();
  for (let i = 0; i < PROCESS_WARMUP_CALLS && performance.now() - began < PROCESS_WARMUP_MS; i++) await session.run(feeds);
  processWarm = true;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
}

/**
 * Per node: kernel durations (ms) from an onnxruntime profile, the first `skip` of each dropped,
 * then only the last of every `burst` (the warm run of each visit).
 */
export function kernelTimesFromProfile(events: ProfileEvent[], skip: number, burst = 1): Map<string, number[]> {
  const byNode = new Map<string, number[]>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || typeof e.dur !== 'number') continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    let list = byNode.get(node);
    if (!list) byNode.set(node, (list = []));
    list.push(e.dur / 1000);
  }
  for (const [node, list] of byNode) {
    const timed = list.slice(Math.min(skip, Math.max(0, list.length - 1)));
    byNode.set(node, burst > 1 && timed.length >= burst ? timed.filter((_, i) => i % burst === burst - 1) : timed);
  }
  return byNode;
}

async function timed(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await session.run(feeds);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Measure every model at every level (see the protocol above). Results per model id, one per level. */
export async function measureModels(models: MeasureModel[], o: KernelMeasureOptions): Promise<Map<string, MeasuredRun[]>> {
  const groupSize = Math.max(1, o.groupSize ?? 1);
  const { maxMsPerModel = Infinity, minRuns = 6, burst = 2 } = o;
  const sessions = Math.max(1, o.sessions ?? 4);
  const results = new Map<string, MeasuredRun[]>(models.map((m) => [m.id, []]));
  const load = o.load ?? new LoadGenerator();
  const total = models.length * o.levels.length;
  let done = 0;
  const dir = mkdtempSync(join(tmpdir(), 'outlet-kprof-'));
  try {
    for (const u of o.levels) {
      // The load's threads inherit the creating thread's cores: start them unpinned, then pin.
      if (o.cpus) pinThread(allCores());
      load.start(u);
      if (o.cpus) pinThread(o.cpus);
      await new Promise((r) => setTimeout(r, 200));
      const achieved = u > 0 ? await measureUtilization(300) : 0;
      for (let g = 0; g < models.length; g += groupSize) {
        const group = models.slice(g, g + groupSize);
        const opened = [];
        for (const [k, m] of group.entries()) {
          const prefix = join(dir, `p${g + k}-u${Math.round(u * 100)}`);
          const profiled = o.plainOnly
            ? undefined
            : await ort.InferenceSession.create(m.bytes, { ...sessionOptions(o.ep, o.threads), enableProfiling: true, profileFilePrefix: prefix });
          const times = Array.from({ length: sessions }, () => [] as number[]);
          opened.push({ m, plain: undefined as ort.InferenceSession | undefined, profiled, prefix, feeds: randomFeeds(m.bytes, g + k + 1), times });
        }
        try {
          // Plain rounds first, then as many profiled rounds: a profiled run between two plain
          // ones would leave its own cache and allocation traces in the plain timings. The plain
          // sessions take turns phase by phase (each opened and warmed up in its phase), not
          // round by round, which would leave every visit's buffers cold from the other sessions'.
          // Per phase at least runs/sessions rounds (fewer, not under minRuns, for slow models
          // past the time budget); fast models keep going within the budget, up to 10× that:
          // the medians of 20 µs calls need many more runs than those of 20 ms ones.
          const perPhase = Math.ceil(o.runs / sessions);
          const budget = (maxMsPerModel * group.length) / sessions;
          let rounds = 0;
          for (let i = 0; i < sessions; i++) {
            for (const s of opened) {
              s.plain = await ort.InferenceSession.create(s.m.bytes, sessionOptions(o.ep, o.threads));
              await warmUpProcess(s.plain, s.feeds);
              const began = performance.now();
              for (let w = 0; w < o.warmup || performance.now() - began < WARMUP_MS; w++) await s.plain.run(s.feeds);
            }
            const began = performance.now();
            for (let round = 0; round < 10 * perPhase; round++) {
              for (const s of opened) {
                for (let b = 1; b < burst; b++) await s.plain!.run(s.feeds);
                s.times[i].push(await timed(s.plain!, s.feeds));
              }
              rounds += 1;
              const spent = performance.now() - began;
              if (round + 1 >= perPhase ? spent > budget / 2 : round + 1 >= Math.max(1, Math.ceil(minRuns / sessions)) && spent > budget) break;
            }
            for (const s of opened) {
              await s.plain!.release();
              s.plain = undefined;
            }
          }
          for (const s of opened) for (let w = 0; w < o.warmup && s.profiled; w++) await s.profiled.run(s.feeds);
          for (let round = 0; round < rounds; round++) {
            for (const s of opened) for (let b = 0; b < burst && s.profiled; b++) await s.profiled.run(s.feeds);
          }
        } finally {
          for (const s of opened) {
            await s.plain?.release();
            await s.profiled?.release();
          }
        }
        for (const s of opened) {
          let kernel_ms: Record<string, number> = {};
          if (s.profiled) {
            const base = s.prefix.split('/').pop()!;
            const file = readdirSync(dir).find((f) => f.startsWith(`${base}_`) && f.endsWith('.json'));
            if (!file) throw new Error(`onnxruntime wrote no profile for ${s.m.id}`);
            const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
            rmSync(join(dir, file), { force: true });
            kernel_ms = Object.fromEntries([...kernelTimesFromProfile(events, o.warmup, burst)].map(([k, v]) => [k, trimmedMean(v)]));
          }
          // With one session, its first and second half of the rounds.
          const all = s.times.flat();
          const [a, b] = sessions > 1
            ? [s.times.filter((_, i) => i % 2 === 0).flat(), s.times.filter((_, i) => i % 2 === 1).flat()]
            : [all.slice(0, Math.floor(all.length / 2)), all.slice(Math.floor(all.length / 2))];
          results.get(s.m.id)!.push({
            cpu_util: u,
            run_ms: median(all),
            run_ms_a: median(a),
            run_ms_b: median(b),
            kernel_ms,
          });
        }
        done += group.length;
        o.onProgress?.(done, total, `${o.ep} u=${u}${u > 0 ? ` (machine ${achieved.toFixed(2)})` : ''}`);
      }
    }
  } finally {
    await load.stopAndWait();
    if (o.cpus) pinThread(allCores());
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const allCores = () => `0-${cpus().length - 1}`;

let pinning = true;

/** The cores measurements ran on: `requested` where pinning worked (or was not tried yet), null where it failed and they ran unpinned. */
export function pinnedCores(requested: string | undefined): string | null {
  return pinning ? (requested ?? null) : null;
}

/**
 * Move this process's main thread (only: its tid is the pid) to `cores`, with taskset. Where that
 * fails (no taskset, cores this process may not use), measure unpinned and say so once.
 */
function pinThread(cores: string): void {
  if (!pinning) return;
  try {
    execFileSync('taskset', ['-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    pinning = false;
    process.emitWarning(`could not pin the measurements to cores ${cores} (${(err as Error).message.split('\n')[0]}): measuring unpinned`);
  }
}
