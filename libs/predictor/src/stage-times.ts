import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelPackage, predictorsHome } from '@outlet/model-package';
import { profiledTime, readProfile } from '@outlet/profiler';
import { ExecutionProvider, fuseSegmentWithHead } from '@outlet/inference';
import { featuresOfModel } from './features';
import { KernelPredictorFile, predictKernels } from './forest';
import { Kernel, runtimeKernels } from './kernels';
import { FittedPredictor, predictMs } from './predictor';

/** Where `outlet predictor fit` writes and loadPredictor() reads: $OUTLET_PREDICTOR, else predictor.json where the predictors live (predictorsHome). */
export function defaultPredictorPath(): string {
  return process.env.OUTLET_PREDICTOR || join(predictorsHome(), 'predictor.json');
}

/** Per segment index / per exit index (ms). */
export interface StageTimesMs {
  segments: number[];
  trunkHeads: number[];
  branchHeads: number[];
  /**
   * Per exit: what an inline head adds when the trunk runs it fused with its segment (one call),
   * max(0, fused − segment) on the trunk's EP. Present only when every exit's fused time is
   * known: measured in profile.json, or predicted by the kernel-level predictor.
   */
  fusedHeads?: number[];
}

/** Load a fitted predictor (default path: defaultPredictorPath()); undefined if the file does not exist. */
export function loadPredictor(path?: string): FittedPredictor | undefined {
  const p = path ?? defaultPredictorPath();
  if (!existsSync(p)) return undefined;
  const parsed = JSON.parse(readFileSync(p, 'utf8')) as FittedPredictor;
  if (parsed.format !== 1 || !parsed.models) throw new Error(`${p} is not a fitted predictor (format 1)`);
  return parsed;
}

const featureCache = new Map<string, Record<string, number>>();
function featuresFor(path: string): Record<string, number> {
  let f = featureCache.get(path);
  if (!f) {
    f = featuresOfModel(path).named;
    featureCache.set(path, f);
  }
  return f;
}

/** A piece's time from the kernel-level predictor at load u, or undefined where it has none (kernelPieceTimes); 'fused' is exit i's head fused with its segment (one call). */
export type KernelPieceTimes = (piece: 'segment' | 'exit' | 'fused', index: number, ep: string, cpuUtil: number) => number | undefined;

/**
 * The kernel-level predictor's times for the segments and exit heads of a package that its
 * profile.json lacks (all of them with `ignoreProfile`): each piece's kernels are listed once per
 * provider (the graph onnxruntime runs, which takes a session: hence async), with the thread
 * budget the piece runs with there, and predicted at any load on demand. Providers without a
 * session here or without a model in the predictor are left out.
 */
export async function kernelPieceTimes(
  pkg: ModelPackage, predictor: KernelPredictorFile, threadsOf: Record<string, number>, ignoreProfile = false,
): Promise<KernelPieceTimes> {
  const kernels = new Map<string, Kernel[]>();
  const profile = ignoreProfile ? undefined : readProfile(pkg);
  const read = (file: string) => readFileSync(join(pkg.dir, file));
  const m = pkg.manifest;
  const pieces = [
    ...m.segments.map((s, i) => ({ piece: 'segment' as const, index: i, bytes: () => read(s.file) })),
    ...m.exits.map((e, i) => ({ piece: 'exit' as const, index: i, bytes: () => read(e.file) })),
    // An inline head runs fused with its segment (one call): predicted as the trunk runs it.
    ...m.exits.map((e, i) => ({ piece: 'fused' as const, index: i, bytes: () => fuseSegmentWithHead(read(m.segments[e.after_segment].file), read(e.file)) })),
  ];
  for (const [ep, threads] of Object.entries(threadsOf)) {
    if (!predictor.models[ep]) continue;
    for (const p of pieces) {
      if (profile && profiledTime(profile, p.piece, p.index, ep, 0) !== undefined) continue;
      try {
        kernels.set(`${p.piece}:${p.index}:${ep}`, await runtimeKernels(p.bytes(), ep as ExecutionProvider, threads));
      } catch {
        break; // no session on this provider here: its pieces stay unpredicted by kernels
      }
    }
  }
  return (piece, index, ep, cpuUtil) => {
    const list = kernels.get(`${piece}:${index}:${ep}`);
    return list ? predictKernels(predictor, list, ep, threadsOf[ep], cpuUtil).total_ms : undefined;
  };
}

export interface StageTimeSources {
  /** The kernel-level predictor's times (preferred over the whole-model predictor). */
  kernels?: KernelPieceTimes;
  /** Leave profile.json aside: every time predicted. */
  ignoreProfile?: boolean;
}

/**
 * Stage times for a package: from its profile.json where measured (interpolating u between levels), else predicted — by the kernel-level predictor where given, else the whole-model predictor. trunkEp is the trunk's EP ('cpu'|'webgpu'|'cuda'); branch heads always on 'cpu'.
 *
 * `source` is 'profile' when every time came from profile.json, else 'kernel predictor' or
 * 'predictor' (the one that predicted the last missing time). Throws when a time is neither
 * profiled nor predictable (no predictor given, or none has a model for that provider).
 */
export function stageTimes(
  pkg: ModelPackage, trunkEp: string, cpuUtil: number, predictor?: FittedPredictor, sources: StageTimeSources = {},
): StageTimesMs & { source: 'profile' | 'predictor' | 'kernel predictor' } {
  const profile = sources.ignoreProfile ? undefined : readProfile(pkg);
  let source: 'profile' | 'predictor' | 'kernel predictor' = 'profile';
  const time = (piece: 'segment' | 'exit', index: number, file: string, ep: string): number => {
    const measured = profile ? profiledTime(profile, piece, index, ep, cpuUtil) : undefined;
    if (measured !== undefined) return measured;
    const byKernels = sources.kernels?.(piece, index, ep, cpuUtil);
    if (byKernels !== undefined) {
      source = 'kernel predictor';
      return byKernels;
    }
    if (!predictor) {
      throw new Error(`${pkg.manifest.name}: ${piece} ${index} on '${ep}' is not in profile.json and no predictor was given (run \`outlet profile\` or \`outlet predictor fit\`)`);
    }
    source = 'predictor';
    return predictMs(predictor, ep, featuresFor(join(pkg.dir, file)), cpuUtil);
  };
  const m = pkg.manifest;
  const segments = m.segments.map((s, i) => time('segment', i, s.file, trunkEp));
  const trunkHeads = m.exits.map((e, i) => time('exit', i, e.file, trunkEp));
  const branchHeads = m.exits.map((e, i) => time('exit', i, e.file, 'cpu'));
  const fused = m.exits.map((e, i) => (profile ? profiledTime(profile, 'fused', i, trunkEp, cpuUtil) : undefined) ?? sources.kernels?.('fused', i, trunkEp, cpuUtil));
  const fusedHeads = fused.length > 0 && fused.every((f) => f !== undefined)
    ? fused.map((f, i) => Math.max(0, f! - segments[m.exits[i].after_segment]))
    : undefined;
  return { segments, trunkHeads, branchHeads, ...(fusedHeads && { fusedHeads }), source };
}
