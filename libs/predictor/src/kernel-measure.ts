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
 * - warm-up runs of both, then `runs` rounds round-robin over the group's plain sessions, so that
 *   slow drifts of a shared machine fall on all models alike, then as many over the profiled ones;
 *   each visit runs the model `burst` times and times the last (caches warm from its own run, as
 *   for a model run over and over, not cold from the group's other models);
 * - robust statistics: the median of the runs (the profiler's warm-up events dropped);
 * - repeatability: the plain runs of the first and second half of the rounds give two independent
 *   medians (`run_ms_a`, `run_ms_b`); their relative difference is the noise floor.
 * Sessions have an explicit intra-op thread budget and no inter-op threads (sessionOptions), and
 * the measuring thread can be pinned to cores (`cpus`).
 */
export interface MeasuredRun {
  cpu_util: number;
  /** Median whole-call ms of the plain session. */
  run_ms: number;
  /** Medians of the first and second half of the rounds. */
  run_ms_a: number;
  run_ms_b: number;
  /** Median ms of each kernel, by node name of the optimized graph (profiled session). */
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
  /** Models timed round-robin together (8 by default). */
  groupSize?: number;
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
  const groupSize = Math.max(1, o.groupSize ?? 8);
  const { maxMsPerModel = Infinity, minRuns = 6, burst = 2 } = o;
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
          const plain = await ort.InferenceSession.create(m.bytes, sessionOptions(o.ep, o.threads));
          const prefix = join(dir, `p${g + k}-u${Math.round(u * 100)}`);
          const profiled = o.plainOnly
            ? undefined
            : await ort.InferenceSession.create(m.bytes, { ...sessionOptions(o.ep, o.threads), enableProfiling: true, profileFilePrefix: prefix });
          opened.push({ m, plain, profiled, prefix, feeds: randomFeeds(m.bytes, g + k + 1), times: [] as number[] });
        }
        try {
          for (const s of opened) {
            for (let w = 0; w < o.warmup; w++) {
              await s.plain.run(s.feeds);
              if (s.profiled) await s.profiled.run(s.feeds);
            }
          }
          // Plain rounds first, then as many profiled rounds: a profiled run between two plain
          // ones would leave its own cache and allocation traces in the plain timings.
          const began = performance.now();
          let rounds = 0;
          // At least `runs` rounds (fewer, not under minRuns, for slow models past the time
          // budget); fast models keep going within the budget, up to 10× runs: the medians of
          // 20 µs calls need many more runs than those of 20 ms ones.
          const budget = maxMsPerModel * group.length;
          for (let round = 0; round < 10 * o.runs; round++) {
            for (const s of opened) {
              for (let b = 1; b < burst; b++) await s.plain.run(s.feeds);
              s.times.push(await timed(s.plain, s.feeds));
            }
            rounds += 1;
            const spent = performance.now() - began;
            if (round + 1 >= o.runs ? spent > budget / 2 : round + 1 >= minRuns && spent > budget) break;
          }
          for (let round = 0; round < rounds; round++) {
            for (const s of opened) for (let b = 0; b < burst && s.profiled; b++) await s.profiled.run(s.feeds);
          }
        } finally {
          for (const s of opened) {
            await s.plain.release();
            if (s.profiled) await s.profiled.release();
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
            kernel_ms = Object.fromEntries([...kernelTimesFromProfile(events, o.warmup, burst)].map(([k, v]) => [k, median(v)]));
          }
          const half = Math.floor(s.times.length / 2);
          results.get(s.m.id)!.push({
            cpu_util: u,
            run_ms: median(s.times),
            run_ms_a: median(s.times.slice(0, half)),
            run_ms_b: median(s.times.slice(half)),
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

/** Move this process's main thread (only: its tid is the pid) to `cores`, with taskset. */
function pinThread(cores: string): void {
  execFileSync('taskset', ['-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}
