import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExecutionProvider } from '@outlet/inference';
import { ModelPackage, readPackageJson } from '@outlet/model-package';
import { LoadGenerator } from './load-generator';
import { describeMachine, MachineDescription } from './machine';
import { interpolateOverUtilization } from './interpolate';
import { MeasureTarget, openSession, PROFILED_EPS, probeProviders, randomFeeds, sweepLevels } from './measure';
import { round } from './stats';

export const PROFILE_FILE = 'profile.json';
export const DEFAULT_LEVELS = [0, 0.25, 0.5, 0.75, 0.9];

/**
 * profile.json, written into a model package by `outlet profile`:
 *
 * {
 *   "format": 1,
 *   "model": "branchy-mnist",                  // manifest name
 *   "created_at": "2026-11-26T09:00:00.000Z",
 *   "machine": { hostname, cpu_model, cores, memory_gib, platform, node, onnxruntime },
 *   "threads": 1,                              // intra-op threads of every session measured
 *   "warmup": 5, "runs": 50,                   // warm-up runs, timed runs (at most) per measurement
 *   "load": { "threads": 2, "period_ms": 10 }, // the background load generator's busy loops
 *   "utilization_levels": [0, 0.25, 0.5, 0.75, 0.9],
 *   "achieved_utilization": [0.02, 0.26, ...], // machine-wide /proc/stat utilization per level,
 *                                              // measured with only the load running (includes
 *                                              // other processes of the machine)
 *   "load_utilization": [0, 0.25, ...],        // CPU share the load generator's own threads got
 *                                              // in that window (below target when the machine
 *                                              // is already busy)
 *   "eps": ["cpu"],                            // providers measured
 *   "unavailable_eps": { "webgpu": "..." },    // providers tried that failed, with the reason
 *   "measurements": [                          // one per piece × provider × level
 *     { "piece": "segment", "index": 0, "file": "segment-1.onnx", "ep": "cpu", "cpu_util": 0.25,
 *       "achieved_util": 0.26, "median_ms": 0.12, "p10_ms": 0.1, "p90_ms": 0.15, "min_ms": 0.09,
 *       "runs": 50 },
 *     { "piece": "exit", "index": 0, ... }
 *   ]
 * }
 *
 * Times are wall-clock ms of one `session.run` at batch 1 on random input (input and output
 * transfers included), run in the profiling process while the load runs on every core; the
 * pieces are timed round-robin (one run of each per round), so caches are as warm as when a
 * node runs one piece after another, not as warm as in a tight loop of one piece.
 */
export interface ProfileMeasurement {
  piece: 'segment' | 'exit';
  index: number;
  file: string;
  ep: string;
  cpu_util: number;
  achieved_util: number;
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  min_ms: number;
  runs: number;
}

export interface ProfileFile {
  format: 1;
  model: string;
  created_at: string;
  machine: MachineDescription;
  threads: number;
  warmup: number;
  runs: number;
  load: { threads: number; period_ms: number };
  utilization_levels: number[];
  achieved_utilization: number[];
  load_utilization: number[];
  eps: string[];
  unavailable_eps: Record<string, string>;
  measurements: ProfileMeasurement[];
}

export interface ProfileOptions {
  levels?: number[];
  runs?: number;
  warmup?: number;
  threads?: number;
  /** Providers to try (cpu, webgpu, cuda by default; those that fail are skipped and noted). */
  eps?: ExecutionProvider[];
  /** Time budget per piece per level (ms); at least 5 runs are always timed. */
  maxMsPerPiece?: number;
  loadPeriodMs?: number;
  onProgress?: (done: number, total: number, label: string) => void;
  onNote?: (message: string) => void;
}

/** Measure every segment and exit head of a package on every provider that works, at every level. */
export async function profilePackage(pkg: ModelPackage, options: ProfileOptions = {}): Promise<ProfileFile> {
  const { levels = DEFAULT_LEVELS, runs = 50, warmup = 5, threads = 1, eps = PROFILED_EPS, maxMsPerPiece = 2000 } = options;
  const m = pkg.manifest;
  const pieces = [
    ...m.segments.map((s, index) => ({ piece: 'segment' as const, index, file: s.file })),
    ...m.exits.map((e, index) => ({ piece: 'exit' as const, index, file: e.file })),
  ];
  const probe = join(pkg.dir, m.segments[0].file);
  const { available, unavailable } = await probeProviders(probe, threads, eps);
  for (const [ep, why] of Object.entries(unavailable)) options.onNote?.(`execution provider '${ep}' skipped: ${why}`);

  const targets: (MeasureTarget & { piece: (typeof pieces)[number]; ep: string })[] = [];
  const sessions: ort.InferenceSession[] = [];
  for (const ep of available) {
    for (const p of pieces) {
      const path = join(pkg.dir, p.file);
      const session = await openSession(path, ep, threads);
      sessions.push(session);
      targets.push({ key: `${ep}:${p.piece}-${p.index}`, session, feeds: randomFeeds(path, p.index + 1), piece: p, ep });
    }
  }
  const load = new LoadGenerator({ periodMs: options.loadPeriodMs });
  try {
    const sweep = await sweepLevels(targets, {
      levels,
      warmup,
      runs,
      maxMsPerTarget: maxMsPerPiece,
      load,
      onProgress: options.onProgress,
    });
    const measurements: ProfileMeasurement[] = [];
    for (const t of targets) {
      sweep.results.get(t.key)!.forEach((s, li) => {
        measurements.push({
          piece: t.piece.piece,
          index: t.piece.index,
          file: t.piece.file,
          ep: t.ep,
          cpu_util: sweep.levels[li].cpu_util,
          achieved_util: round(sweep.levels[li].achieved_util, 3),
          median_ms: round(s.median),
          p10_ms: round(s.p10),
          p90_ms: round(s.p90),
          min_ms: round(s.min),
          runs: s.n,
        });
      });
    }
    return {
      format: 1,
      model: m.name,
      created_at: new Date().toISOString(),
      machine: describeMachine(),
      threads,
      warmup,
      runs,
      load: { threads: load.threads, period_ms: load.periodMs },
      utilization_levels: levels,
      achieved_utilization: sweep.levels.map((l) => round(l.achieved_util, 3)),
      load_utilization: sweep.levels.map((l) => round(l.load_util, 3)),
      eps: available,
      unavailable_eps: unavailable,
      measurements,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

export function writeProfile(pkg: ModelPackage, profile: ProfileFile): string {
  const path = join(pkg.dir, PROFILE_FILE);
  writeFileSync(path, `${JSON.stringify(profile, null, 2)}\n`);
  return path;
}

export function readProfile(pkg: ModelPackage): ProfileFile | undefined {
  return readPackageJson<ProfileFile>(pkg, PROFILE_FILE);
}

/**
 * A piece's median time (ms) on `ep` at utilization `u`, interpolated linearly between the
 * measured levels (clamped outside them); undefined where the profile has no such measurement.
 */
export function profiledTime(profile: ProfileFile, piece: 'segment' | 'exit', index: number, ep: string, u: number): number | undefined {
  const points = profile.measurements
    .filter((x) => x.piece === piece && x.index === index && x.ep === ep)
    .map((x) => ({ u: x.cpu_util, value: x.median_ms }));
  return points.length ? interpolateOverUtilization(points, u) : undefined;
}
