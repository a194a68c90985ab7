import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelPackage } from '@outlet/model-package';
import { profiledTime, readProfile } from '@outlet/profiler';
import { featuresOfModel } from './features';
import { FittedPredictor, predictMs } from './predictor';

/** Where `outlet predictor fit` writes and loadPredictor() reads: models/predictor.json under the working directory, or $OUTLET_PREDICTOR. */
export function defaultPredictorPath(): string {
  return process.env.OUTLET_PREDICTOR || resolve(process.cwd(), 'models', 'predictor.json');
}

/** Per segment index / per exit index (ms). */
export interface StageTimesMs {
  segments: number[];
  trunkHeads: number[];
  branchHeads: number[];
  /**
   * Per exit: what an inline head adds when the trunk runs it fused with its segment (one call),
   * max(0, fused − segment) on the trunk's EP. Present only when profile.json has a 'fused'
   * measurement of every exit on that EP (never predicted).
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

/**
 * Stage times for a package: from its profile.json where measured (interpolating u between levels), else predicted. trunkEp is the trunk's EP ('cpu'|'webgpu'|'cuda'); branch heads always on 'cpu'.
 *
 * `source` is 'profile' when every time came from profile.json, else 'predictor' (some or all
 * were predicted). Throws when a time is neither profiled nor predictable (no predictor given,
 * or the predictor has no model for that provider).
 */
export function stageTimes(pkg: ModelPackage, trunkEp: string, cpuUtil: number, predictor?: FittedPredictor): StageTimesMs & { source: 'profile' | 'predictor' } {
  const profile = readProfile(pkg);
  let predicted = false;
  const time = (piece: 'segment' | 'exit', index: number, file: string, ep: string): number => {
    const measured = profile ? profiledTime(profile, piece, index, ep, cpuUtil) : undefined;
    if (measured !== undefined) return measured;
    if (!predictor) {
      throw new Error(`${pkg.manifest.name}: ${piece} ${index} on '${ep}' is not in profile.json and no predictor was given (run \`outlet profile\` or \`outlet predictor fit\`)`);
    }
    predicted = true;
    return predictMs(predictor, ep, featuresFor(join(pkg.dir, file)), cpuUtil);
  };
  const m = pkg.manifest;
  const segments = m.segments.map((s, i) => time('segment', i, s.file, trunkEp));
  const trunkHeads = m.exits.map((e, i) => time('exit', i, e.file, trunkEp));
  const branchHeads = m.exits.map((e, i) => time('exit', i, e.file, 'cpu'));
  const fused = profile ? m.exits.map((e, i) => profiledTime(profile, 'fused', i, trunkEp, cpuUtil)) : [];
  const fusedHeads = fused.length > 0 && fused.every((f) => f !== undefined)
    ? fused.map((f, i) => Math.max(0, f! - segments[m.exits[i].after_segment]))
    : undefined;
  return { segments, trunkHeads, branchHeads, ...(fusedHeads && { fusedHeads }), source: predicted ? 'predictor' : 'profile' };
}
