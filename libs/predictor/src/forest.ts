import { RandomForestRegression } from 'ml-random-forest';
import { HardwareFingerprint } from '@outlet/contracts';
import { interpolateOverUtilization, MachineDescription, summarize } from '@outlet/profiler';
import { Kernel, KERNEL_CLASSES, KERNEL_FEATURES, KernelClass, kernelFeatureVector } from './kernels';
import { leastSquares, nnls } from './nnls';

/**
 * The kernel-level latency predictor: per execution provider and kernel class (kernels.ts
 * KERNEL_CLASSES), a kernel's time is a FLOPs/bytes baseline — ms ≈ c0 + c1·MFLOP + c2·MB, fitted
 * by non-negative least squares on relative error, the old predictor's formulas — times a
 * non-linear correction: a random forest (ml-random-forest) on the kernel's configuration
 * (KERNEL_FEATURES: input H×W, Cin, Cout, kernel, stride, dilation, groups, FLOPs, bytes, fused
 * activation / sum, thread count and CPU utilization) predicting log(measured / baseline). The
 * baseline carries the trend beyond the sampled range (a forest cannot extrapolate); the forest
 * learns what FLOPs miss (depthwise and small-channel convolutions, cache effects, blocking).
 * Per level, a first fit of plain whole calls against the profiled kernels (fitOverhead: o0 +
 * o1·kernels + o2·MB of large kernel outputs + o3·MB of results + α·Σ profiled) gives the
 * profiler's own cost per kernel; the forests are trained on the profiled times less that cost,
 * scaled so that each model's kernels add up to its plain whole call minus the overhead. Then the
 * whole-call model (fitCallModel) learns from the plain whole calls how a call adds up from the
 * forests' predictions: a constant per call and per kernel of each class, α, the allocation of
 * large outputs and the copy of the results into JavaScript (~0.13 ms per MB here).
 */
export interface ClassModel {
  /** Baseline ms = coef · [1, mflop, mbytes]. */
  baseline: number[];
  /** Forest on log(ms / baseline), as RandomForestRegression.toJSON(); absent with few samples. */
  forest?: unknown;
  n: number;
}

export interface OverheadLevel {
  cpu_util: number;
  /** ms per call, per kernel (negative: the profiler's own cost), per MB of large kernel outputs (allocated per run: no memory arena) and per MB of results; then α, the plain / profiled kernel time ratio. */
  coef: number[];
  /** The whole-call model (fitCallModel): coefficients of callRow, fitted on plain whole calls against the forests' kernel predictions. */
  call?: number[];
  n: number;
}

export interface KernelPredictorFile {
  /** 2: overhead coefficients [o0, o1, o2, o3, α] and the whole-call model. */
  format: 2;
  kind: 'kernel-predictor';
  created_at: string;
  machine?: MachineDescription;
  feature_names: string[];
  /** Per provider: per kernel class, and the per-call overhead per level. */
  models: Record<string, { classes: Partial<Record<KernelClass, ClassModel>>; overhead: OverheadLevel[]; threads: number[]; levels: number[] }>;
  /**
   * Per "<ep>/t<threads>": this predictor adapted to another machine by `outlet predictor adapt`
   * (kernel-adapt.ts): every prediction for that provider and thread count is corrected by it.
   */
  adaptations?: Record<string, KernelAdaptation>;
  /** Evaluation rows written by the fit (eval.ts). */
  evaluation?: unknown;
  /** Fit settings and timing. */
  fit?: Record<string, unknown>;
}

export interface KernelSample {
  kclass: KernelClass;
  /** KERNEL_FEATURES order. */
  x: number[];
  ms: number;
}

export interface ForestOptions {
  nEstimators?: number;
  maxDepth?: number;
  minNumSamples?: number;
  seed?: number;
  /** Classes with fewer samples keep the baseline alone. */
  minSamples?: number;
}

export const FOREST_DEFAULTS: Required<ForestOptions> = { nEstimators: 8, maxDepth: 6, minNumSamples: 3, seed: 7, minSamples: 12 };

const MFLOP = KERNEL_FEATURES.indexOf('mflop');
const MBYTES = KERNEL_FEATURES.indexOf('mbytes');

function baselineRow(x: number[]): number[] {
  return [1, x[MFLOP], x[MBYTES]];
}

/** Non-negative baseline fit on relative error; never below a floor of 1 µs per kernel. */
export function fitBaseline(samples: { x: number[]; ms: number }[]): number[] {
  if (samples.length === 0) return [0.001, 0, 0];
  const rows = samples.map((s) => baselineRow(s.x).map((v) => v / s.ms));
  const coef = nnls(rows, samples.map(() => 1));
  if (coef[0] < 0.0001) coef[0] = 0.0001;
  return coef;
}

function baselineMs(coef: number[], x: number[]): number {
  const row = baselineRow(x);
  return Math.max(1e-4, row.reduce((s, v, i) => s + v * coef[i], 0));
}

/** Fit one class: baseline, then a forest on the log-ratio. */
export function fitClass(samples: { x: number[]; ms: number }[], options: ForestOptions = {}): ClassModel {
  const o = { ...FOREST_DEFAULTS, ...options };
  const baseline = fitBaseline(samples);
  const model: ClassModel = { baseline: baseline.map((c) => Number(c.toPrecision(6))), n: samples.length };
  if (samples.length >= o.minSamples) {
    const forest = new RandomForestRegression({
      nEstimators: o.nEstimators,
      maxFeatures: 1.0,
      replacement: true,
      useSampleBagging: true,
      seed: o.seed,
      noOOB: true,
      treeOptions: { maxDepth: o.maxDepth, minNumSamples: o.minNumSamples },
    } as never);
    forest.train(samples.map((s) => s.x), samples.map((s) => Math.log(s.ms / baselineMs(model.baseline, s.x))));
    model.forest = compactForest(forest.toJSON());
  }
  return model;
}

/** Round the numbers of a forest's JSON (thresholds and leaf values) to keep the file small. */
function compactForest(json: unknown): unknown {
  return JSON.parse(JSON.stringify(json, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v)), (k, v) => v);
}

const loaded = new WeakMap<object, RandomForestRegression>();
function forestOf(model: ClassModel): RandomForestRegression | undefined {
  if (!model.forest) return undefined;
  let f = loaded.get(model.forest as object);
  if (!f) {
    f = RandomForestRegression.load(model.forest as never);
    loaded.set(model.forest as object, f);
  }
  return f;
}

/** Predicted ms of kernels of one class, from their feature vectors. */
export function predictClass(model: ClassModel, xs: number[][]): number[] {
  if (xs.length === 0) return [];
  const forest = forestOf(model);
  const corrections = forest ? forest.predict(xs) : xs.map(() => 0);
  return xs.map((x, i) => baselineMs(model.baseline, x) * Math.exp(corrections[i]));
}

/** What a whole call does besides its kernels' own work: the features of its overhead. */
export interface CallShape {
  kernels: number;
  /** MB of kernel outputs of LARGE_OUTPUT_MB or more (largeOutputMb). */
  large_out_mb: number;
  /** MB of the graph's outputs (resultMb): copied out of onnxruntime into JavaScript on every call. */
  result_mb: number;
}

export function callShape(kernels: Kernel[]): CallShape {
  return { kernels: kernels.length, large_out_mb: largeOutputMb(kernels), result_mb: resultMb(kernels) };
}

/**
 * Fit the per-call overhead of one level from whole calls: run_ms ≈ o0 + o1·kernels + o2·MB of
 * large kernel outputs + o3·MB of results + α·(Σ profiled kernel ms), by least squares on error
 * relative to the whole call (small and large models count alike). o1 comes out negative where
 * the profiler adds its own cost to every kernel it times (profilerMsPerKernel); returns
 * [o0, o1, o2, o3, α].
 */
export function fitOverhead(rows: { shape: CallShape; kernel_ms: number; run_ms: number }[]): number[] {
  if (rows.length < 5) return [0, 0, 0, 0, 1];
  const c = leastSquares(rows.map((r) => [...overheadRow(r.shape), r.kernel_ms].map((v) => v / r.run_ms)), rows.map(() => 1));
  return c.map((v) => Number(v.toPrecision(5)));
}

/** What a plain call adds to its kernels (ms) from a level's coefficients: the per-call, per-kernel (when positive), per-MB and per-result-MB costs. */
export function overheadMs(coef: number[], shape: CallShape): number {
  return overheadRow(shape).reduce((sum, v, i) => sum + Math.max(0, coef[i] ?? 0) * v, 0);
}

/** The profiler's own cost per timed kernel (ms), from a level's coefficients: −o1/α when o1 < 0. */
export function profilerMsPerKernel(coef: number[]): number {
  const o1 = coef[1] ?? 0;
  const alpha = coef[4] ?? 1;
  return o1 < 0 && alpha > 0 ? -o1 / alpha : 0;
}

function overheadRow(shape: CallShape): number[] {
  return [1, shape.kernels, shape.large_out_mb, shape.result_mb];
}

/** Outputs from this size (MB) on cost their allocation: fresh pages, with no memory arena (smaller ones come from the heap). */
const LARGE_OUTPUT_MB = 0.5;

const mbOf = (shape: number[] | undefined) => (shape ? (shape.reduce((a, b) => a * b, 1) * 4) / 1e6 : 0);

/** MB of the kernels' outputs of LARGE_OUTPUT_MB or more: what a run allocates page by page. */
export function largeOutputMb(kernels: Kernel[]): number {
  return kernels.flatMap((k) => k.outputShapes.map(mbOf)).filter((v) => v >= LARGE_OUTPUT_MB).reduce((a, b) => a + b, 0);
}

/** MB of the graph's outputs (kernels' graphOutputs; lists without them: the last kernel's first output). */
export function resultMb(kernels: Kernel[]): number {
  if (!kernels.some((k) => k.graphOutputs)) return mbOf(kernels[kernels.length - 1]?.outputShapes[0]);
  return kernels.reduce((sum, k) => sum + (k.graphOutputs ?? []).reduce((s, i) => s + mbOf(k.outputShapes[i]), 0), 0);
}

export interface KernelPrediction {
  kernel: Kernel;
  ms: number;
}

export interface ModelPrediction {
  ep: string;
  threads: number;
  cpu_util: number;
  kernels: KernelPrediction[];
  overhead_ms: number;
  total_ms: number;
}

/**
 * The whole-call model's features: [1, kernels per class (KERNEL_CLASSES order), MB of large
 * kernel outputs, MB of results, Σ of the forests' kernel predictions (ms)].
 */
function callRow(kernels: Kernel[], kernelMs: number[]): number[] {
  const shape = callShape(kernels);
  return [1, ...KERNEL_CLASSES.map((c) => kernels.filter((k) => k.kclass === c).length), shape.large_out_mb, shape.result_mb, kernelMs.reduce((a, b) => a + b, 0)];
}

/**
 * Fit the whole-call model of one level: run_ms ≈ o0 + Σ_class o_class·kernels of the class +
 * o2·MB of large outputs + o3·MB of results + α·Σ predicted kernel ms, by least squares on error
 * relative to the whole call. The forests learn from profiled kernel times, which for kernels of
 * a few microseconds are mostly the profiler's own cost and its 1 µs steps; this last step
 * learns from the whole calls themselves what each kernel adds to one (a constant per class,
 * negative where the forests over-predict tiny kernels) and what a call costs besides.
 */
export function fitCallModel(rows: { kernels: Kernel[]; kernel_ms: number[]; run_ms: number }[]): number[] | undefined {
  const width = KERNEL_CLASSES.length + 4;
  if (rows.length < 2 * width) return undefined;
  const c = leastSquares(rows.map((r) => callRow(r.kernels, r.kernel_ms).map((v) => v / r.run_ms)), rows.map(() => 1));
  return c.map((v) => Number(v.toPrecision(5)));
}

/** Each kernel's ms as its class's forest predicts it (before the whole-call model). */
export function forestKernelMs(classes: Partial<Record<KernelClass, ClassModel>>, kernels: Kernel[], ep: string, threads: number, cpuUtil: number): number[] {
  const ms = new Array<number>(kernels.length).fill(0);
  for (const kclass of KERNEL_CLASSES) {
    const idx = kernels.map((k, i) => (k.kclass === kclass ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const model = classes[kclass] ?? classes.eltwise;
    if (!model) throw new Error(`the kernel predictor has no model for ${kclass} kernels on '${ep}'`);
    const preds = predictClass(model, idx.map((i) => kernelFeatureVector(kernels[i], threads, cpuUtil)));
    idx.forEach((i, j) => (ms[i] = preds[j]));
  }
  return ms;
}

/** Kernels predicted under this (ms) are small: to the local correction's likeness, and to adaptations before SIZE_SPLIT a band of their own (small kernels gain less from threads and more from a fast core). */
export const SMALL_KERNEL_MS = 0.05;
/**
 * What an adaptation scales: each kernel class, its small kernels apart, and the gemm kernels of a
 * model whose weights outgrow the L2 of its threads apart again (`gemm/spill`): a gemm of one row
 * reads each weight once, so it runs as fast as the place its weights come from (2 threads here:
 * MLPs within the two cores' 2 × 2 MB at 0.29-0.37 of the 1-thread base, beyond it at 0.53-0.56);
 * beyond the L3 too, `gemm/far` (FAR_SPLIT); and convolutions with narrow outputs, `conv/narrow`
 * (WIDTH_SPLIT).
 */
export const ADAPT_BANDS = [...KERNEL_CLASSES.flatMap((c) => [c, `${c}/small`] as const), 'gemm/spill', 'gemm/far', 'conv/narrow'] as const;
export type AdaptBand = (typeof ADAPT_BANDS)[number];

/** A kernel's band from its class, its base prediction and whether its model's weights outgrow the cache. */
export function bandOf(kclass: KernelClass, ms: number, spills = false): AdaptBand {
  if (ms < SMALL_KERNEL_MS) return `${kclass}/small`;
  return kclass === 'gemm' && spills ? 'gemm/spill' : kclass;
}

/**
 * Where an adaptation's two scales of a kernel class meet (ms of the kernel's base prediction):
 * a kernel at or under `small_ms` takes its class's small-kernel scale (`conv/small`), one at or
 * over `large_ms` its class's scale (`conv`), one between a mix of both, log-linear in its ms. How
 * much a kernel gains from threads grows with its work: at 2 threads here a 16-channel 3×3
 * convolution at 28×28 (0.03 ms) ran 1.45× faster than at 1 thread, ResNet-width ones 1.8×,
 * tiny ones not at all, where a step at one size (SMALL_KERNEL_MS) gives two values. On the same
 * five collections of blocks and stacks (2026-12-07, fitted both ways offline) the mix scored 68,
 * 84, 73, 92, 57 % of the 37 within ±10 % against the step's 59, 73, 70, 81, 54 %; in live runs
 * it did better at 1 thread and worse at 2 (docs/offline-stage.md). The large end was 0.1 ms
 * until 2026-12-07 evening: on 22 collections (AMD EPYC and Xeon, 1 and 2 threads) 0.1, 0.05,
 * 0.03, 0.02 and 0.015 ms scored 629, 639, 645, 651 and 648 of 814 predictions of the 37 within
 * ±10 %, the 11 larger 19, 20, 20, 20, 20 of 22: on the EPYC, 32- and 64-channel convolutions of
 * 10-35 µs ran at the large kernels' ratio (1.3-1.5 of the base), not between it and the small
 * ones' (0.7).
 */
export const SIZE_SPLIT = { small_ms: 0.005, large_ms: 0.02 };
export type SizeSplit = typeof SIZE_SPLIT;

/** A share that is 1 at or beyond `one`, 0 at or beyond `zero`, log-linear in `x` between (how every split of an adaptation mixes two scales). */
function logLinearShare(x: number, one: number, zero: number): number {
  const share = (Math.log(zero) - Math.log(Math.max(x, 1e-9))) / (Math.log(zero) - Math.log(one));
  return Math.min(1, Math.max(0, share));
}

/** The share of a kernel's base ms its class's small-kernel scale takes (without a split, as adaptations before it: a step at SMALL_KERNEL_MS). */
export function smallShare(ms: number, split?: SizeSplit): number {
  if (!split) return ms < SMALL_KERNEL_MS ? 1 : 0;
  return logLinearShare(ms, split.small_ms, split.large_ms);
}

/**
 * Where a convolution's scale for narrow outputs (`conv/narrow`) gives way to its class's (`conv`),
 * in output channels: all narrow at or under `narrow_c`, none at or over `wide_c`, log-linear
 * between. How fast a convolution runs for its work changes with its output's width from one CPU
 * to another: on a 2-core AMD EPYC, against the forests fitted on the Intel Xeon, blocks of
 * 16-channel convolutions ran at 1.0-1.1 of the base and those of 64 and more at 1.45-1.6, and one
 * conv scale left 16-wide stacks 15-25 % too slow. Fitted offline on the same collections
 * (2026-12-07, scripts/adapt-offline.js), the 11 larger architectures went from 61 to 80 of 99
 * predictions within ±10 % there, from 85 to 97 of 165 on the Xeon at 2 threads, 183 to 182 of 264
 * at 1 thread; the 37 from 334 to 339 of 444.
 */
export const WIDTH_SPLIT = { narrow_c: 16, wide_c: 64 };
export type WidthSplit = typeof WIDTH_SPLIT;

/** The share of a kernel's (large-kernel) ms its class's narrow scale takes: convolutions only, with a width split. */
export function narrowShare(kernel: Kernel, split?: WidthSplit): number {
  if (!split || kernel.kclass !== 'conv' || !(kernel.config.out_c > 0)) return 0;
  return logLinearShare(kernel.config.out_c, split.narrow_c, split.wide_c);
}

/**
 * Where a spilling gemm's scale (`gemm/spill`: weights beyond the threads' L2, within the last-level
 * cache) gives way to `gemm/far` (weights streamed from memory), in its model's weights as a share
 * of the L3: none at or under `from`, all at or over `to`, log-linear between. On the 2-core AMD
 * EPYC (32 MB of L3), MLPs of one row ran at 0.36-0.42 of the Xeon-fitted base up to 16 MB of
 * weights, 0.75 at 24 MB, 0.80 at 32, 0.95 at 48 and 1.06-1.09 at 96-128 MB.
 */
export const FAR_SPLIT = { from: 0.5, to: 1 };

/** The share of a spilling model's gemm ms `gemm/far` takes, from its weights and the L3 an adaptation recorded (none: 0). */
export function farShare(kernels: Kernel[], l3Kb: number | undefined): number {
  if (!l3Kb) return 0;
  return logLinearShare(weightKb(kernels), FAR_SPLIT.to * l3Kb, FAR_SPLIT.from * l3Kb);
}

/**
 * How an adaptation scales one kernel: its base ms split among the bands whose scales multiply it,
 * and the band whose constant per kernel it pays. A gemm of a model that spills the cache is
 * `gemm/spill`, but for its model's `far` share (farShare), which is `gemm/far`; without a split
 * (older adaptations), every kernel is all of its bandOf. `narrow` (narrowShare) moves that share
 * of a convolution's large part to `conv/narrow`.
 */
export function scaledParts(kclass: KernelClass, ms: number, spills: boolean, split?: SizeSplit, mix: { narrow?: number; far?: number } = {}): { parts: [AdaptBand, number][]; constant: AdaptBand } {
  if (!split) {
    const band = bandOf(kclass, ms, spills);
    return { parts: [[band, ms]], constant: band };
  }
  const { narrow = 0, far = 0 } = mix;
  if (kclass === 'gemm' && spills) return { parts: far > 0 ? [['gemm/spill', ms * (1 - far)], ['gemm/far', ms * far]] : [['gemm/spill', ms]], constant: 'gemm/spill' };
  const small = smallShare(ms, split);
  const parts: [AdaptBand, number][] = [[`${kclass}/small`, ms * small], [kclass, ms * (1 - small) * (1 - narrow)]];
  return { parts: narrow > 0 ? [...parts, ['conv/narrow', ms * (1 - small) * narrow]] : parts, constant: kclass };
}

/** A prediction's ms per band as an adaptation's scales take it (scaledParts), and its kernels per band of their constant. */
export function scaledTotals(p: ModelPrediction, spills: boolean, split?: SizeSplit, width?: WidthSplit, far = 0): { ms: Record<AdaptBand, number>; counts: Record<AdaptBand, number> } {
  const ms = Object.fromEntries(ADAPT_BANDS.map((c) => [c, 0])) as Record<AdaptBand, number>;
  const counts = Object.fromEntries(ADAPT_BANDS.map((c) => [c, 0])) as Record<AdaptBand, number>;
  for (const k of p.kernels) {
    const { parts, constant } = scaledParts(k.kernel.kclass, k.ms, spills, split, { narrow: narrowShare(k.kernel, width), far });
    for (const [band, v] of parts) ms[band] += v;
    counts[constant]++;
  }
  return { ms, counts };
}

/** KB of weights a model's kernels read. */
export function weightKb(kernels: Kernel[]): number {
  return kernels.reduce((s, k) => s + k.config.weight_kb, 0);
}

/** Whether a model's weights outgrow the cache an adaptation measured (none recorded: never). */
export function spillsCache(kernels: Kernel[], cacheKb: number | undefined): boolean {
  return cacheKb !== undefined && weightKb(kernels) > cacheKb;
}

/** What a model is like, as the adaptation's measured blocks are compared: the share of its base prediction in each band and in the call's overhead, and its size. */
export interface BlockLikeness {
  shares: Partial<Record<AdaptBand | 'overhead', number>>;
  log_ms: number;
}

/** A model's likeness from its base prediction (`spills`: its weights outgrow the adaptation's cache): its bands with time, each kernel all in its bandOf, and its overhead. */
export function likenessOf(base: ModelPrediction, spills = false): BlockLikeness {
  const msByBand = scaledTotals(base, spills).ms;
  const total = base.total_ms || 1;
  const shares: BlockLikeness['shares'] = {};
  for (const band of ADAPT_BANDS) if (msByBand[band] > 0) shares[band] = msByBand[band] / total;
  shares.overhead = base.overhead_ms / total;
  return { shares, log_ms: Math.log(base.total_ms) };
}

/**
 * The local correction of an adaptation: its measured blocks, each with how it is like (its
 * likeness) and what the scales left of its error (measured / adapted prediction). A model's
 * adapted prediction is multiplied by the median residual of the `k` blocks most like it
 * (distance: the shares' Euclidean distance + `size_weight` × |Δ ln ms|). The bands' scales are
 * fitted over every block at once; how a band's kernels run depends also on what surrounds them
 * (at 2 threads here MobileNet stacks, 1×1 convolutions between depthwise ones, ran at 0.9 of the
 * base, ResNet stacks of 3×3 ones at 0.55-0.6), which the blocks most like a model carry.
 */
export interface LocalCorrection {
  k: number;
  size_weight: number;
  blocks: (BlockLikeness & { residual: number })[];
}

/** The factor a local correction puts on a model like `like`. */
export function localFactor(c: LocalCorrection, like: BlockLikeness): number {
  const distance = (b: BlockLikeness) => {
    const keys = new Set([...Object.keys(b.shares), ...Object.keys(like.shares)]) as Set<keyof BlockLikeness['shares']>;
    const squares = [...keys].reduce((s, key) => s + ((b.shares[key] ?? 0) - (like.shares[key] ?? 0)) ** 2, 0);
    return Math.sqrt(squares) + c.size_weight * Math.abs(b.log_ms - like.log_ms);
  };
  const nearest = c.blocks.map((b) => ({ d: distance(b), r: b.residual })).sort((x, y) => x.d - y.d).slice(0, c.k);
  return nearest.length ? summarize(nearest.map((n) => n.r)).median : 1;
}

/**
 * A fitted predictor's correction for one machine, provider and thread count: each kernel's
 * prediction × its bands' scales (scaledParts) + its band's per-kernel ms, the call's overhead ×
 * overhead_scale + overhead_ms; then, where it has one, all of it × its local correction.
 */
export interface KernelAdaptation {
  ep: string;
  threads: number;
  /** The machine adapted to. */
  fingerprint: HardwareFingerprint;
  /** The provider whose forests it corrects, where the predictor had none of its own (`models[ep]` is a copy of them). */
  base_ep?: string;
  /** Per band (a kernel class, its small kernels apart: `conv/small`): the factor on the base prediction. */
  scale: Partial<Record<AdaptBand, number>>;
  /** Where a class's small-kernel scale gives way to its scale (SIZE_SPLIT); absent in files adapted before it: a step at SMALL_KERNEL_MS. */
  size_split?: SizeSplit;
  /** Where `conv/narrow` gives way to `conv` (WIDTH_SPLIT); absent in files adapted before it: one conv scale. */
  width_split?: WidthSplit;
  /** Per band: ms added to each of its kernels (absent: 0). */
  per_kernel_ms?: Partial<Record<AdaptBand, number>>;
  overhead_scale: number;
  overhead_ms: number;
  /** KB of cache the threads had (L2 per core × threads; absent: unknown, or not a CPU): the edge of `gemm/spill`. */
  cache_kb?: number;
  /** KB of L3 (absent: unknown, not a CPU, or adapted before it): where `gemm/far` takes over (FAR_SPLIT). */
  l3_kb?: number;
  /** Absent in files adapted before it. */
  local?: LocalCorrection;
  created_at: string;
  /** How it was measured: blocks, seconds, and its error on them before and after (MAPE %). */
  fit: {
    blocks: number;
    seconds: number;
    mape_before: number;
    mape_after: number;
    cpus: string | null;
    /** Blocks measured a second time within the budget (the faster visit counts; older files lack it). */
    visited_twice?: number;
    /** Share of the blocks whose two visits (older files and blocks measured once: the two halves of the one) agree within ±10 %: how quiet the machine was (older files lack it). */
    repeatable?: number;
  };
}

/** Predict every kernel of a graph and the whole call on `ep` with `threads` at `cpuUtil` (adapted to this machine where the predictor has an adaptation for them). */
export function predictKernels(predictor: KernelPredictorFile, kernels: Kernel[], ep: string, threads: number, cpuUtil: number): ModelPrediction {
  const base = predictBaseKernels(predictor, kernels, ep, threads, cpuUtil);
  const a = predictor.adaptations?.[`${ep}/t${threads}`];
  if (!a) return base;
  const spills = spillsCache(kernels, a.cache_kb);
  const far = farShare(kernels, a.l3_kb);
  const local = a.local ? localFactor(a.local, likenessOf(base, spills)) : 1;
  const ms = base.kernels.map((k) => {
    const { parts, constant } = scaledParts(k.kernel.kclass, k.ms, spills, a.size_split, { narrow: narrowShare(k.kernel, a.width_split), far });
    return local * (parts.reduce((sum, [band, v]) => sum + v * (a.scale[band] ?? 1), 0) + (a.per_kernel_ms?.[constant] ?? 0));
  });
  return prediction(ep, threads, cpuUtil, kernels, ms, local * Math.max(0, base.overhead_ms * a.overhead_scale + a.overhead_ms));
}

/** The fitted forests' prediction, before any adaptation. */
export function predictBaseKernels(predictor: KernelPredictorFile, kernels: Kernel[], ep: string, threads: number, cpuUtil: number): ModelPrediction {
  const m = predictor.models[ep];
  if (!m) throw new Error(`the kernel predictor has no model for execution provider '${ep}' (it has: ${Object.keys(predictor.models).join(', ') || 'none'})`);
  const ms = forestKernelMs(m.classes, kernels, ep, threads, cpuUtil);
  const levels = m.overhead.filter((o) => o.call);
  if (levels.length && levels.length === m.overhead.length) {
    // The whole-call model, its coefficients interpolated between levels: each kernel gets
    // α·(its forest prediction) + its class's constant (never below 0), the call the rest.
    const coef = levels[0].call!.map((_, j) => interpolateOverUtilization(levels.map((o) => ({ u: o.cpu_util, value: o.call![j] })), cpuUtil));
    const alpha = coef[coef.length - 1];
    const shape = callShape(kernels);
    const perKernel = ms.map((v, i) => Math.max(0, alpha * v + coef[1 + KERNEL_CLASSES.indexOf(kernels[i].kclass)]));
    const overhead = Math.max(0, coef[0] + coef[KERNEL_CLASSES.length + 1] * shape.large_out_mb + coef[KERNEL_CLASSES.length + 2] * shape.result_mb);
    return prediction(ep, threads, cpuUtil, kernels, perKernel, overhead);
  }
  const overhead = m.overhead.length
    ? interpolateOverUtilization(m.overhead.map((o) => ({ u: o.cpu_util, value: overheadMs(o.coef, callShape(kernels)) })), cpuUtil)
    : 0;
  return prediction(ep, threads, cpuUtil, kernels, ms, overhead);
}

function prediction(ep: string, threads: number, cpuUtil: number, kernels: Kernel[], ms: number[], overhead: number): ModelPrediction {
  return {
    ep,
    threads,
    cpu_util: cpuUtil,
    kernels: kernels.map((kernel, i) => ({ kernel, ms: ms[i] })),
    overhead_ms: overhead,
    total_ms: overhead + ms.reduce((a, b) => a + b, 0),
  };
}

/** Fit every class of one provider from kernel samples. */
export function fitClasses(samples: KernelSample[], options: ForestOptions = {}): Partial<Record<KernelClass, ClassModel>> {
  const classes: Partial<Record<KernelClass, ClassModel>> = {};
  for (const kclass of KERNEL_CLASSES) {
    const rows = samples.filter((s) => s.kclass === kclass && s.ms > 0);
    if (rows.length) classes[kclass] = fitClass(rows, options);
  }
  return classes;
}
