import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExecutionProvider, fuseSegmentWithHead } from '@outlet/inference';
import { ModelPackage, readPackageJson } from '@outlet/model-package';
import { LoadGenerator } from './load-generator';
import { HardwareFingerprint } from '@outlet/contracts';
import { describeMachine, machineFingerprint, MachineDescription } from './machine';
import { interpolateOverUtilization } from './interpolate';
import { MeasureTarget, openSession, PROFILED_EPS, probeProviders, randomFeeds, sweepLevels } from './measure';
import { round } from './stats';

export const PROFILE_FILE = 'profile.json';
export const DEFAULT_LEVELS = [0, 0.25, 0.5, 0.75, 0.9];

/**
 * The quick protocol a node runs on itself (and `outlet profile --quick`): three load levels,
 * 3 warm-up and up to 20 timed runs, at most 300 ms per piece and level. branchy-bench (4
 * segments, 4 heads, 4 fused pairs, 12–17 ms each) takes about 13 s on 2 cores.
 */
export const QUICK_PROFILE = { levels: [0, 0.5, 0.9], runs: 20, warmup: 3, maxMsPerPiece: 300 } as const;

/**
 * profile.json, written into a model package by `outlet profile`:
 *
 * {
 *   "format": 1,
 *   "model": "branchy-mnist",                  // manifest name
 *   "created_at": "2026-11-26T09:00:00.000Z",
 *   "machine": { hostname, cpu_model, cores, memory_gib, platform, node, onnxruntime },
 *   "threads": 1,                              // intra-op threads of the trunk's pieces (segments,
 *                                              // fused pairs, heads on providers other than cpu)
 *   "branch_threads": 1,                       // intra-op threads of exit heads on 'cpu', the branch
 *                                              // worker's (absent in older files: same as threads)
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
 *     { "piece": "exit", "index": 0, ... },
 *     { "piece": "fused", "index": 0, "file": "segment-1.onnx+exit-1.onnx", ... }
 *   ]
 * }
 *
 * Piece kinds: "segment" (index = segment index), "exit" (index = exit index), and "fused"
 * (index = exit index): the exit's segment and head as one graph with two outputs, one
 * onnxruntime call, as a trunk runs an inline head (see fuseSegmentWithHead); its extra time over
 * the plain segment is what an inline head costs. Each measurement may carry "threads", the
 * intra-op threads of its session. Older files (no "fused" pieces, no "branch_threads", no
 * per-measurement "threads") still load; their heads were all timed at "threads".
 *
 * Times are wall-clock ms of one `session.run` at batch 1 on random input (input and output
 * transfers included), run in the profiling process while the load runs on every core; the
 * pieces are timed round-robin (one run of each per round), so caches are as warm as when a
 * node runs one piece after another, not as warm as in a tight loop of one piece.
 */
export type ProfilePiece = 'segment' | 'exit' | 'fused';

export interface ProfileMeasurement {
  piece: ProfilePiece;
  index: number;
  /** The piece's file; for 'fused', "<segment file>+<exit file>". */
  file: string;
  ep: string;
  /** Intra-op threads of the session (absent in older files: the profile's `threads`). */
  threads?: number;
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
  /** Per profiled provider: the hardware fingerprint it was measured as (absent in files made before fingerprints). */
  fingerprints?: Record<string, HardwareFingerprint>;
  threads: number;
  /** Threads of exit heads timed on 'cpu' (absent in older files: `threads`). */
  branch_threads?: number;
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
  /** Intra-op threads of the trunk's pieces: segments, fused pairs, heads on accelerators (1). */
  threads?: number;
  /** Intra-op threads of exit heads on 'cpu', as the branch worker runs them (default: threads). */
  branchThreads?: number;
  /** Time fused segment + head pairs too (true). */
  fused?: boolean;
  /** Providers to try (cpu, webgpu, cuda by default; those that fail are skipped and noted). */
  eps?: ExecutionProvider[];
  /** Time budget per piece per level (ms); at least 5 runs are always timed. */
  maxMsPerPiece?: number;
  loadPeriodMs?: number;
  onProgress?: (done: number, total: number, label: string) => void;
  onNote?: (message: string) => void;
}

/** One piece to time: its kind, index, file label and model (a path, or bytes for a fused pair). */
interface Piece {
  piece: ProfilePiece;
  index: number;
  file: string;
  source: string | Uint8Array;
}

/**
 * Measure every segment, exit head and fused segment + head pair of a package on every provider
 * that works, at every level. Segments and fused pairs (the trunk's calls) run at `threads`;
 * heads at `branchThreads` on 'cpu' (where the branch worker runs them), at `threads` elsewhere.
 */
export async function profilePackage(pkg: ModelPackage, options: ProfileOptions = {}): Promise<ProfileFile> {
  const { levels = DEFAULT_LEVELS, runs = 50, warmup = 5, threads = 1, eps = PROFILED_EPS, maxMsPerPiece = 2000, fused = true } = options;
  const branchThreads = options.branchThreads ?? threads;
  const m = pkg.manifest;
  const pieces: Piece[] = [
    ...m.segments.map((s, index) => ({ piece: 'segment' as const, index, file: s.file, source: join(pkg.dir, s.file) })),
    ...m.exits.map((e, index) => ({ piece: 'exit' as const, index, file: e.file, source: join(pkg.dir, e.file) })),
  ];
  if (fused) {
    for (const [index, e] of m.exits.entries()) {
      const segment = m.segments[e.after_segment].file;
      const bytes = fuseSegmentWithHead(readFileSync(join(pkg.dir, segment)), readFileSync(join(pkg.dir, e.file)));
      pieces.push({ piece: 'fused', index, file: `${segment}+${e.file}`, source: bytes });
    }
  }
  const probe = join(pkg.dir, m.segments[0].file);
  const { available, unavailable } = await probeProviders(probe, threads, eps);
  for (const [ep, why] of Object.entries(unavailable)) options.onNote?.(`execution provider '${ep}' skipped: ${why}`);

  const targets: (MeasureTarget & { piece: Piece; ep: string; threads: number })[] = [];
  const sessions: ort.InferenceSession[] = [];
  for (const ep of available) {
    for (const p of pieces) {
      const pieceThreads = p.piece === 'exit' && ep === 'cpu' ? branchThreads : threads;
      const session = await openSession(p.source, ep, pieceThreads);
      sessions.push(session);
      // A fused pair gets its segment's seed: the same input, so fused − segment compares like with like.
      const seed = p.piece === 'fused' ? m.exits[p.index].after_segment + 1 : p.index + 1;
      targets.push({ key: `${ep}:${p.piece}-${p.index}`, session, feeds: randomFeeds(p.source, seed), piece: p, ep, threads: pieceThreads });
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
          threads: t.threads,
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
    const machine = describeMachine();
    return {
      format: 1,
      model: m.name,
      created_at: new Date().toISOString(),
      machine,
      fingerprints: Object.fromEntries(available.map((ep) => [ep, machineFingerprint(machine, ep, threads, branchThreads)])),
      threads,
      branch_threads: branchThreads,
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
export function profiledTime(profile: ProfileFile, piece: ProfilePiece, index: number, ep: string, u: number): number | undefined {
  const points = profile.measurements
    .filter((x) => x.piece === piece && x.index === index && x.ep === ep)
    .map((x) => ({ u: x.cpu_util, value: x.median_ms }));
  return points.length ? interpolateOverUtilization(points, u) : undefined;
}
