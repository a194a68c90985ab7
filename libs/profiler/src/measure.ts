import * as ort from 'onnxruntime-node';
import { ExecutionProvider, sessionOptions } from '@outlet/inference';
import { analyzeModel } from '@outlet/onnx-cost';
import { LoadGenerator, measureUtilization } from './load-generator';
import { Summary, summarize } from './stats';

/** Execution providers the profiler tries, CPU first. */
export const PROFILED_EPS: ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];

export async function openSession(source: string | Uint8Array, ep: ExecutionProvider, threads: number): Promise<ort.InferenceSession> {
  const options = sessionOptions(ep, threads);
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
}

/** Random FP32 feeds for a model's inputs, shaped from its graph (dynamic batch = 1). */
export function randomFeeds(source: string | Uint8Array, seed = 1): Record<string, ort.Tensor> {
  const cost = analyzeModel(source);
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Object.fromEntries(
    cost.inputs.map((i) => {
      const n = i.shape.reduce((a, b) => a * b, 1);
      return [i.name, new ort.Tensor('float32', Float32Array.from({ length: n }, rand), i.shape)];
    }),
  );
}

/**
 * Which providers open `probe` and run it: an entry per provider tried, with the first line of
 * the error for those that fail (webgpu without an adapter, cuda without its libraries).
 */
export async function probeProviders(
  probe: string | Uint8Array,
  threads: number,
  eps: ExecutionProvider[] = PROFILED_EPS,
): Promise<{ available: ExecutionProvider[]; unavailable: Record<string, string> }> {
  const available: ExecutionProvider[] = [];
  const unavailable: Record<string, string> = {};
  const feeds = randomFeeds(probe);
  for (const ep of eps) {
    try {
      const session = await openSession(probe, ep, threads);
      await session.run(feeds);
      await session.release();
      available.push(ep);
    } catch (err) {
      unavailable[ep] = (err as Error).message.split('\n')[0].slice(0, 300);
    }
  }
  return { available, unavailable };
}

/** One thing to time: an open session and its feeds. */
export interface MeasureTarget {
  key: string;
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
}

export interface TimingOptions {
  warmup: number;
  runs: number;
  /** Time budget per target per level (ms): stop once targets × this is spent (at least minRuns). */
  maxMsPerTarget?: number;
  minRuns?: number;
}

/** Time `session.run` (ms) after warm-up runs. */
export async function timeTarget(target: MeasureTarget, options: TimingOptions): Promise<Summary> {
  const { warmup, runs, maxMsPerTarget = Infinity, minRuns = 5 } = options;
  for (let i = 0; i < warmup; i++) await target.session.run(target.feeds);
  const times: number[] = [];
  const began = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await target.session.run(target.feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (times.length >= minRuns && performance.now() - began > maxMsPerTarget) break;
  }
  return summarize(times);
}

export interface LevelResult {
  /** Target background utilization. */
  cpu_util: number;
  /** Machine-wide utilization measured from /proc/stat with only the load running. */
  achieved_util: number;
  /** CPU share the load generator's own threads got in that window (0..1 of its threads' cores). */
  load_util: number;
}

export interface SweepOptions extends TimingOptions {
  levels: number[];
  load?: LoadGenerator;
  /** Time for the load to settle before measuring (ms). */
  settleMs?: number;
  /** Window over which the achieved utilization is measured (ms). */
  utilWindowMs?: number;
  /** Targets timed round-robin together (all by default). */
  groupSize?: number;
  onProgress?: (done: number, total: number, label: string) => void;
}

/**
 * Time every target at every background utilization level: for each level, start the load,
 * measure the achieved utilization with nothing else of ours running, then, group by group
 * (`groupSize` targets), warm the group up and time it round-robin (one run of each per round),
 * so that each target's runs spread over time and slow drifts of the machine (other processes)
 * hit the group alike. Rounds stop at `runs`, or once `maxMsPerTarget` × group size is spent and
 * `minRuns` are done.
 */
export async function sweepLevels(
  targets: MeasureTarget[],
  options: SweepOptions,
): Promise<{ levels: LevelResult[]; results: Map<string, Summary[]> }> {
  const load = options.load ?? new LoadGenerator();
  const { settleMs = 200, utilWindowMs = 500, warmup, runs, maxMsPerTarget = Infinity, minRuns = 5 } = options;
  const results = new Map<string, Summary[]>(targets.map((t) => [t.key, []]));
  const levels: LevelResult[] = [];
  const total = options.levels.length * targets.length;
  let done = 0;
  // Round-robin within groups of `groupSize` targets: runs spread over time, and the working set
  // stays about one model package's (a node runs a few pieces in turn, not hundreds).
  const groupSize = Math.max(1, options.groupSize ?? targets.length);
  const groups: number[][] = [];
  for (let i = 0; i < targets.length; i += groupSize) groups.push(targets.slice(i, i + groupSize).map((_, k) => i + k));
  try {
    for (const u of options.levels) {
      load.start(u);
      await new Promise((r) => setTimeout(r, settleMs));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const achieved = await measureUtilization(utilWindowMs);
      const own = process.cpuUsage(cpu0);
      const loadUtil = (own.user + own.system) / 1000 / (performance.now() - t0) / Math.max(1, load.threads);
      levels.push({ cpu_util: u, achieved_util: achieved, load_util: u === 0 ? 0 : loadUtil });
      const times = targets.map(() => [] as number[]);
      for (const group of groups) {
        for (const i of group) for (let w = 0; w < warmup; w++) await targets[i].session.run(targets[i].feeds);
        const began = performance.now();
        const budget = maxMsPerTarget * group.length;
        for (let round = 0; round < runs; round++) {
          for (const i of group) {
            const t = process.hrtime.bigint();
            await targets[i].session.run(targets[i].feeds);
            times[i].push(Number(process.hrtime.bigint() - t) / 1e6);
          }
          if (round + 1 >= minRuns && performance.now() - began > budget) break;
        }
        done += group.length;
        options.onProgress?.(done, total, `u=${u} (achieved ${achieved.toFixed(2)})`);
      }
      targets.forEach((t, i) => results.get(t.key)!.push(summarize(times[i])));
    }
  } finally {
    await load.stopAndWait();
  }
  return { levels, results };
}
