import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { ExecutionProvider } from '@outlet/inference';
import { loadModelPackage } from '@outlet/model-package';
import { describeMachine, LoadGenerator, PROFILED_EPS, probeProviders } from '@outlet/profiler';
import { callShape, CallShape, fitCallModel, fitClasses, fitOverhead, forestKernelMs, overheadMs, profilerMsPerKernel, ForestOptions, KernelPredictorFile, KernelSample, OverheadLevel, predictKernels } from './forest';
import { halvesApart, measureModels, MeasuredRun, MeasureModel, pinnedCores } from './kernel-measure';
import { BLOCK_FAMILIES, BlockFamily, BlockModel, generateArchitectures, generateBlocks } from './kernel-zoo';
import { Kernel, KERNEL_FEATURES, kernelFeatureVector, runtimeKernels } from './kernels';
import { splitIds } from './zoo';

export interface KernelFitOptions {
  /** Training blocks of the first pass. */
  count: number;
  /** Blocks added by adaptive refinement (sampled by family where the cross-validated error is largest). */
  refine: number;
  seed: number;
  holdoutShare: number;
  levels: number[];
  threads: number[];
  eps?: ExecutionProvider[];
  warmup: number;
  runs: number;
  groupSize: number;
  maxMsPerModel: number;
  /** Package folders whose segments and exits are scored (never fitted on). */
  packages: string[];
  /** Whole ONNX files scored as they are (never fitted on), e.g. a single-file multi-exit network. */
  files?: string[];
  /** Score the real-architecture stacks too. */
  architectures: boolean;
  /** Cores the measuring thread is pinned to (kernel-measure.ts); default defaultMeasureCpus(threads). */
  cpus?: string;
  forest?: ForestOptions;
  onProgress?: (done: number, total: number, label: string) => void;
  onNote?: (message: string) => void;
}

export const KERNEL_FIT_DEFAULTS: Omit<KernelFitOptions, 'packages'> = {
  count: 300, refine: 100, seed: 11, holdoutShare: 0.25, levels: [0, 0.25, 0.5, 0.75, 0.9], threads: [1],
  warmup: 3, runs: 20, groupSize: 1, maxMsPerModel: 400, architectures: true,
};
export const KERNEL_FIT_QUICK: Omit<KernelFitOptions, 'packages'> = {
  ...KERNEL_FIT_DEFAULTS, count: 60, refine: 20, levels: [0, 0.5], runs: 12, maxMsPerModel: 200,
};

/** One measured model: its kernels and, per (ep, threads), the measured runs per level. */
export interface MeasuredModel {
  id: string;
  family: string;
  description: string;
  set: 'fit' | 'holdout' | 'architecture' | 'package';
  kernels: Record<string, Kernel[]>;
  runs: Record<string, MeasuredRun[]>;
}

export interface ScoreRow {
  set: string;
  ep: string;
  threads: number;
  cpu_util: number;
  n: number;
  within_10pct: number;
  within_20pct: number;
  mape: number;
  /** The same metrics between two independent halves of the measurement (the noise floor). */
  noise_within_10pct: number;
  noise_within_20pct: number;
  noise_mape: number;
}

export interface ScoreDetail {
  set: string;
  id: string;
  description: string;
  ep: string;
  threads: number;
  cpu_util: number;
  predicted_ms: number;
  measured_ms: number;
  error_pct: number;
  noise_pct: number;
}

const key = (ep: string, threads: number) => `${ep}/t${threads}`;
/** The provider and thread count of a `runs` / `kernels` key ("cpu/t1"). */
const parseKey = (k: string) => ({ ep: k.split('/')[0], threads: Number(k.split('/t')[1]) });

/** The per-call overhead of every level (fitOverhead) for one provider, from its measured whole calls. */
function fitOverheads(models: MeasuredModel[], ep: string, levels: number[], threads: number[]): OverheadLevel[] {
  return levels.map((u) => {
    const rows: { shape: CallShape; kernel_ms: number; run_ms: number }[] = [];
    for (const m of models) {
      for (const t of threads) {
        const k = key(ep, t);
        const r = m.runs[k]?.find((x) => x.cpu_util === u);
        const kernels = m.kernels[k];
        if (!r || !kernels) continue;
        const sum = kernels.reduce((s, kern) => s + (r.kernel_ms[kern.name] ?? 0), 0);
        if (!plausibleProfile(sum, r.run_ms)) continue;
        rows.push({ shape: callShape(kernels), kernel_ms: sum, run_ms: r.run_ms });
      }
    }
    return { cpu_util: u, coef: fitOverhead(rows), n: rows.length };
  });
}

/**
 * Whether a profile's kernels (sum, ms) fit the plain whole call: within 1/4..4 of it. Beyond, the
 * profiled runs met something the plain ones did not (a page-fault storm, a long preemption:
 * once, a 0.3 ms kernel profiled at 16 ms under load), and the model is left out of the fit.
 */
function plausibleProfile(kernelMs: number, runMs: number): boolean {
  return kernelMs > 0 && kernelMs / runMs <= 4 && kernelMs / runMs >= 0.25;
}

/**
 * Kernel samples of one provider's measured models: each kernel's profiled time less the
 * profiler's own cost per kernel, scaled so that the model's kernels add up to its plain whole
 * call minus the call's overhead (models whose profile does not fit their whole call left out).
 */
export function samplesOf(models: MeasuredModel[], ep: string, overhead: OverheadLevel[]): KernelSample[] {
  const list: KernelSample[] = [];
  for (const m of models) {
    for (const [k, runs] of Object.entries(m.runs)) {
      const { ep: runEp, threads } = parseKey(k);
      if (runEp !== ep) continue;
      const kernels = m.kernels[k] ?? [];
      for (const r of runs) {
        const level = overhead.find((o) => o.cpu_util === r.cpu_util);
        const profiler = level ? profilerMsPerKernel(level.coef) : 0;
        // A kernel's own time never goes below a tenth of what the profiler saw.
        const own = (kernel: Kernel) => Math.max(0.1 * r.kernel_ms[kernel.name], r.kernel_ms[kernel.name] - profiler);
        const timed = kernels.filter((kernel) => (r.kernel_ms[kernel.name] ?? 0) > 0);
        const sum = timed.reduce((s, kernel) => s + own(kernel), 0);
        if (!plausibleProfile(timed.reduce((s, kernel) => s + r.kernel_ms[kernel.name], 0), r.run_ms)) continue;
        const callOverhead = level ? overheadMs(level.coef, callShape(kernels)) : 0;
        // Tiny models' own times are a few profiler microseconds: the ratio is kept within 1/4..4.
        const scale = Math.min(4, Math.max(0.25, (r.run_ms - callOverhead) / sum));
        for (const kernel of timed) list.push({ kclass: kernel.kclass, x: kernelFeatureVector(kernel, threads, r.cpu_util), ms: own(kernel) * scale });
      }
    }
  }
  return list;
}

/** Fit a kernel predictor from measured models (all of them: pass the fit set). */
export function fitFromMeasured(models: MeasuredModel[], levels: number[], threads: number[], forest?: ForestOptions): KernelPredictorFile['models'] {
  const out: KernelPredictorFile['models'] = {};
  const eps = [...new Set(models.flatMap((m) => Object.keys(m.runs).map((k) => parseKey(k).ep)))];
  for (const ep of eps) {
    const overhead = fitOverheads(models, ep, levels, threads);
    const samples = samplesOf(models, ep, overhead);
    if (!samples.length) continue;
    const classes = fitClasses(samples, forest);
    out[ep] = { classes, overhead, threads, levels };
    // Then the whole-call model of every level, on the forests' predictions.
    for (const level of overhead) {
      const rows = [];
      for (const m of models) {
        for (const t of threads) {
          const r = m.runs[key(ep, t)]?.find((x) => x.cpu_util === level.cpu_util);
          const kernels = m.kernels[key(ep, t)];
          if (!r || !kernels) continue;
          rows.push({ kernels, kernel_ms: forestKernelMs(classes, kernels, ep, t, level.cpu_util), run_ms: r.run_ms });
        }
      }
      const call = fitCallModel(rows);
      if (call) level.call = call;
    }
  }
  return out;
}

function metrics(pairs: { p: number; m: number; a: number; b: number }[]) {
  const ape = pairs.map((x) => Math.abs(x.p - x.m) / x.m);
  const noise = pairs.map((x) => halvesApart({ run_ms_a: x.a, run_ms_b: x.b }));
  const n = pairs.length;
  const share = (xs: number[], t: number) => (n ? xs.filter((e) => e <= t).length / n : NaN);
  const mean = (xs: number[]) => (n ? (100 * xs.reduce((s, v) => s + v, 0)) / n : NaN);
  const r = (v: number) => Number(v.toFixed(4));
  return {
    n,
    within_10pct: r(share(ape, 0.1)), within_20pct: r(share(ape, 0.2)), mape: r(mean(ape)),
    noise_within_10pct: r(share(noise, 0.1)), noise_within_20pct: r(share(noise, 0.2)), noise_mape: r(mean(noise)),
  };
}

/** Score a predictor on measured models: rows per set, provider, threads and level; details per model. */
export function scoreModels(predictor: KernelPredictorFile, models: MeasuredModel[]): { rows: ScoreRow[]; details: ScoreDetail[] } {
  const rows: ScoreRow[] = [];
  const details: ScoreDetail[] = [];
  const sets = [...new Set(models.map((m) => m.set))];
  for (const set of sets) {
    const inSet = models.filter((m) => m.set === set);
    const keys = [...new Set(inSet.flatMap((m) => Object.keys(m.runs)))];
    for (const k of keys) {
      const { ep, threads } = parseKey(k);
      if (!predictor.models[ep]) continue;
      const levels = [...new Set(inSet.flatMap((m) => (m.runs[k] ?? []).map((r) => r.cpu_util)))].sort((a, b) => a - b);
      for (const u of levels) {
        const pairs = [];
        for (const m of inSet) {
          const r = m.runs[k]?.find((x) => x.cpu_util === u);
          if (!r || !m.kernels[k]) continue;
          const p = predictKernels(predictor, m.kernels[k], ep, threads, u).total_ms;
          pairs.push({ p, m: r.run_ms, a: r.run_ms_a, b: r.run_ms_b });
          if (set !== 'holdout' && set !== 'fit') {
            details.push({
              set, id: m.id, description: m.description, ep, threads, cpu_util: u,
              predicted_ms: Number(p.toFixed(4)), measured_ms: Number(r.run_ms.toFixed(4)),
              error_pct: Number((100 * (p - r.run_ms) / r.run_ms).toFixed(2)),
              noise_pct: Number((100 * halvesApart(r)).toFixed(2)),
            });
          }
        }
        rows.push({ set, ep, threads, cpu_util: u, ...metrics(pairs) });
      }
    }
  }
  return { rows, details };
}

/** Cores to pin measurements to by default: the last `threads` cores (core 0 takes most interrupts), none on a 1-core machine. */
export function defaultMeasureCpus(threads: number): string | undefined {
  const n = cpus().length;
  if (process.platform !== 'linux' || n < 2) return undefined;
  const count = Math.min(threads, n);
  return count === 1 ? String(n - 1) : `${n - count}-${n - 1}`;
}

/** The segments and exit heads of packages, and whole files, as models to score. */
export function packagePieces(dirs: string[], files: string[] = []): BlockModel[] {
  const out: BlockModel[] = files.map((f) => ({ id: `file/${basename(f)}`, family: 'file', description: `${basename(f)} (whole file)`, bytes: readFileSync(f) }));
  for (const dir of dirs) {
    const pkg = loadModelPackage(dir);
    const name = pkg.manifest.name;
    pkg.manifest.segments.forEach((s, i) => out.push({ id: `${name}/segment-${i}`, family: 'package', description: `${name} ${s.file}`, bytes: readFileSync(join(pkg.dir, s.file)) }));
    pkg.manifest.exits.forEach((e, i) => out.push({ id: `${name}/exit-${i}`, family: 'package', description: `${name} ${e.file}`, bytes: readFileSync(join(pkg.dir, e.file)) }));
  }
  return out;
}

/** Per family: mean absolute error (%) of whole-block predictions, by 2-fold cross-validation on the fit set. */
export function familyErrors(models: MeasuredModel[], levels: number[], threads: number[], forest?: ForestOptions): Record<string, number> {
  const folds = [models.filter((_, i) => i % 2 === 0), models.filter((_, i) => i % 2 === 1)];
  const errs: Record<string, number[]> = {};
  for (let f = 0; f < 2; f++) {
    const trained: KernelPredictorFile = { format: 2, kind: 'kernel-predictor', created_at: '', feature_names: [], models: fitFromMeasured(folds[f], levels, threads, forest) };
    for (const m of folds[1 - f]) {
      for (const [k, runs] of Object.entries(m.runs)) {
        const run = parseKey(k);
        if (!trained.models[run.ep]) continue;
        for (const r of runs) {
          const p = predictKernels(trained, m.kernels[k], run.ep, run.threads, r.cpu_util).total_ms;
          (errs[m.family] ??= []).push(Math.abs(p - r.run_ms) / r.run_ms);
        }
      }
    }
  }
  return Object.fromEntries(Object.entries(errs).map(([f, e]) => [f, (100 * e.reduce((a, b) => a + b, 0)) / e.length]));
}

async function measureSet(
  blocks: BlockModel[], set: MeasuredModel['set'], eps: ExecutionProvider[], o: KernelFitOptions, load: LoadGenerator,
  plainOnly: boolean, levels: number[], progress: (label: string) => (done: number, total: number, l: string) => void,
): Promise<MeasuredModel[]> {
  const models: MeasuredModel[] = blocks.map((b) => ({ id: b.id, family: b.family, description: b.description, set, kernels: {}, runs: {} }));
  for (const ep of eps) {
    for (const t of o.threads) {
      const k = key(ep, t);
      const usable: MeasureModel[] = [];
      for (const [i, b] of blocks.entries()) {
        try {
          models[i].kernels[k] = await runtimeKernels(b.bytes, ep, t);
          usable.push({ id: b.id, bytes: b.bytes });
        } catch (err) {
          o.onNote?.(`${b.id} (${b.description}) skipped on ${k}: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      const measured = await measureModels(usable, {
        ep, threads: t, levels, warmup: o.warmup, runs: o.runs, groupSize: o.groupSize, maxMsPerModel: o.maxMsPerModel, plainOnly, load,
        cpus: o.cpus ?? defaultMeasureCpus(t),
        onProgress: progress(`${set} ${k}`),
      });
      for (const m of models) {
        const r = measured.get(m.id);
        if (r) m.runs[k] = r;
      }
    }
  }
  return models.filter((m) => Object.keys(m.runs).length > 0);
}

/** A predictor file of fitted models, stamped with this machine. */
function predictorFile(models: KernelPredictorFile['models']): KernelPredictorFile {
  return { format: 2, kind: 'kernel-predictor', created_at: new Date().toISOString(), machine: describeMachine(), feature_names: [...KERNEL_FEATURES], models };
}

/**
 * The whole fit: sample training blocks, list the kernels onnxruntime runs for each, measure them
 * (kernel-measure.ts protocol) per provider, thread count and load level, refine adaptively
 * (more blocks of the families with the largest cross-validated error), fit, and score on the
 * held-out blocks, the real-architecture stacks and the packages' pieces beside the noise floor.
 */
export async function fitKernelPredictor(options: Partial<KernelFitOptions> = {}): Promise<{ predictor: KernelPredictorFile; measured: MeasuredModel[] }> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<KernelFitOptions>;
  const o: KernelFitOptions = { ...KERNEL_FIT_DEFAULTS, packages: [], ...given };
  const started = Date.now();
  const blocks = generateBlocks({ count: o.count, seed: o.seed });
  const probe = blocks.find((b) => b.family === 'mobilenet') ?? blocks[0];
  const { available, unavailable } = await probeProviders(probe.bytes, 1, o.eps ?? PROFILED_EPS);
  for (const [ep, why] of Object.entries(unavailable)) o.onNote?.(`execution provider '${ep}' skipped: ${why}`);
  if (available.length === 0) throw new Error('no execution provider works here');
  const arch = o.architectures ? generateArchitectures() : [];
  const pieces = packagePieces(o.packages, o.files);
  // Progress over every model × level × (ep, threads) pass, refinement included.
  const passes = available.length * o.threads.length * o.levels.length;
  const total = (o.count + o.refine + arch.length + pieces.length) * passes;
  let base = 0;
  const progress = (label: string) => (done: number, t: number) => o.onProgress?.(base + done, total, label);
  const load = new LoadGenerator();
  const split = splitIds(blocks.map((b) => b.id), o.holdoutShare, o.seed);
  const run = async (bs: BlockModel[], set: MeasuredModel['set'], plainOnly: boolean) => {
    const r = await measureSet(bs, set, available, o, load, plainOnly, o.levels, progress);
    base += bs.length * passes;
    return r;
  };
  const first = await run(blocks, 'fit', false);
  for (const m of first) if (split.holdout.has(m.id)) m.set = 'holdout';
  let fitSet = first.filter((m) => m.set === 'fit');
  const holdout = first.filter((m) => m.set === 'holdout');
  let familyError: Record<string, number> = {};
  if (o.refine > 0) {
    familyError = familyErrors(fitSet, o.levels, o.threads, o.forest);
    const weights = Object.fromEntries(BLOCK_FAMILIES.map((f) => [f, 1 + (familyError[f] ?? 0)])) as Record<BlockFamily, number>;
    o.onNote?.(`adaptive refinement: cross-validated MAPE per family ${JSON.stringify(Object.fromEntries(Object.entries(familyError).map(([f, e]) => [f, Number(e.toFixed(1))])))}; ${o.refine} more blocks drawn in proportion to 1 + MAPE`);
    const extra = generateBlocks({ count: o.refine, seed: o.seed + 1000, familyWeights: weights, prefix: 'ref' });
    fitSet = [...fitSet, ...(await run(extra, 'fit', false))];
  }
  const archMeasured = arch.length ? await run(arch, 'architecture', true) : [];
  const pieceMeasured = pieces.length ? await run(pieces, 'package', true) : [];
  const predictor = predictorFile(fitFromMeasured(fitSet, o.levels, o.threads, o.forest));
  const measured = [...fitSet, ...holdout, ...archMeasured, ...pieceMeasured];
  const score = scoreModels(predictor, measured.filter((m) => m.set !== 'fit'));
  predictor.evaluation = score;
  predictor.fit = {
    count: o.count, refine: o.refine, seed: o.seed, holdout_share: o.holdoutShare, levels: o.levels, threads: o.threads,
    warmup: o.warmup, runs: o.runs, group_size: o.groupSize, eps: available, unavailable_eps: unavailable,
    fit_models: fitSet.length, holdout_models: holdout.length, family_cv_mape: familyError,
    packages: o.packages, files: o.files ?? [], cpus: pinnedCores(o.cpus ?? defaultMeasureCpus(Math.max(...o.threads))), seconds: Math.round((Date.now() - started) / 1000),
  };
  return { predictor, measured };
}

/**
 * Fit and score again from the measurements of an earlier fit (its `--measurements` file), e.g.
 * after a change of the model: the same split, levels and thread counts, nothing measured.
 */
export function refitKernelPredictor(measured: MeasuredModel[], forest?: ForestOptions): KernelPredictorFile {
  const fitSet = measured.filter((m) => m.set === 'fit');
  const runs = fitSet.flatMap((m) => Object.entries(m.runs));
  const levels = [...new Set(runs.flatMap(([, rs]) => rs.map((r) => r.cpu_util)))].sort((a, b) => a - b);
  const threads = [...new Set(runs.map(([k]) => parseKey(k).threads))].sort((a, b) => a - b);
  const predictor = predictorFile(fitFromMeasured(fitSet, levels, threads, forest));
  predictor.evaluation = scoreModels(predictor, measured.filter((m) => m.set !== 'fit'));
  predictor.fit = { refit_from_measurements: true, levels, threads, fit_models: fitSet.length, holdout_models: measured.filter((m) => m.set === 'holdout').length };
  return predictor;
}
