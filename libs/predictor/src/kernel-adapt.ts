import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { predictorsHome } from '@outlet/model-package';
import { ExecutionProvider } from '@outlet/inference';
import { LoadGenerator, describeMachine, l2KbPerCore, l3Kb, machineFingerprint, summarize } from '@outlet/profiler';
import { ADAPT_BANDS, AdaptBand, BlockLikeness, KernelAdaptation, KernelPredictorFile, LocalCorrection, SIZE_SPLIT, SizeSplit, WIDTH_SPLIT, WidthSplit, farShare, likenessOf, predictBaseKernels, predictKernels, scaledTotals, spillsCache } from './forest';
import { Kernel, runtimeKernels } from './kernels';
import { MeasuredRun, halvesApart, measureModels, pinnedCores } from './kernel-measure';
import { BlockModel, generateArchitectures, generateBlocks, generateWeightLadder } from './kernel-zoo';
import { MeasuredModel, ScoreRow, defaultMeasureCpus, packagePieces, scoreModels } from './kernel-fit';
import { nnls } from './nnls';

/**
 * `outlet predictor adapt`: the shipped kernel predictor learned one machine's speed. On another
 * machine (another CPU, ISA, thread count or onnxruntime) it is corrected from a few dozen
 * measured blocks instead of fitted again (hours): per kernel class a scale, and the call's
 * overhead a scale and a constant, fitted by non-negative least squares on relative error. The
 * classes' forests keep what they learned about shapes; the adaptation learns the machine.
 */

export interface AdaptOptions {
  ep: ExecutionProvider;
  threads: number;
  /** Time budget for measuring blocks (the fit itself takes milliseconds). */
  seconds: number;
  /** The most blocks measured. */
  maxBlocks: number;
  seed: number;
  /** Cores to pin the measurements to (default: the last `threads` cores). */
  cpus?: string;
  onProgress?: (done: number, total: number, label: string) => void;
}

export const ADAPT_DEFAULTS = { ep: 'cpu' as ExecutionProvider, threads: 1, seconds: 150, maxBlocks: 240, seed: 23 };

/** One measured block as the fit sees it: the base prediction per band (scaledTotals), kernels per band of their constant, overhead, total, its likeness, and the measured call (ms). */
export interface AdaptRow {
  byClass: Record<AdaptBand, number>;
  counts: Record<AdaptBand, number>;
  overhead: number;
  total: number;
  like: BlockLikeness;
  measured: number;
}

/** Blocks measured per batch: the time budget is checked between batches. */
const BATCH = 6;
/**
 * A band whose kernels carry less than this share of the blocks' predicted time gets the overall
 * ratio, not a scale of its own, unless it carries LEAD_SHARE of at least LED_BLOCKS blocks: a
 * band of small kernels (a gemm that runs from the cache) is little of the sum and most of a few
 * blocks.
 */
const MIN_CLASS_SHARE = 0.005;
const LEAD_SHARE = 0.25;
const LED_BLOCKS = 4;
/**
 * A band's scale stays within this factor of the overall ratio, either way: from a few dozen
 * blocks a band's scale can be their noise (30 blocks, a 7-second adapt: pooling × 0, so its
 * kernels took no time); on 240 blocks the bands spread 0.5-2× of it.
 */
const MAX_SCALE_SPREAD = 4;
/**
 * The most a band's constant per kernel may be on the CPU (ms): a thread pool's dispatch costs
 * microseconds (an accelerator's kernel launch may cost more: unbounded there).
 * Unbounded, a few dozen noisy blocks traded it against the band's scale (pooling × 0.22 + 0.39 ms
 * a kernel from 66 blocks): on the same measurements, fits from 60 and 120 blocks at 1 thread came
 * within ±10 % of 27 and 38 % of the real architectures, bounded of 65 and 68 %.
 */
const MAX_PER_KERNEL_MS = 0.01;
/** The local correction: blocks a prediction's factor is the median of, and the weight of size against the bands' shares. */
const LOCAL_NEIGHBOURS = 20;
const LOCAL_SIZE_WEIGHT = 0.5;

/** Where this machine's adapted predictor for a provider and thread count lives: models/predictors/kernel-<fingerprint id>.json. */
export function adaptedPredictorPath(ep: string, threads: number, modelsDir = predictorsHome()): string {
  return join(modelsDir, 'predictors', `kernel-${machineFingerprint(describeMachine(), ep, threads).id}.json`);
}

/**
 * The kernel predictor to use for a provider and thread count: $OUTLET_KERNEL_PREDICTOR; else this
 * machine's adapted one, where `outlet predictor adapt` wrote it; else the shipped one.
 */
export function kernelPredictorPathFor(ep: string, threads: number, modelsDir = predictorsHome()): string {
  if (process.env.OUTLET_KERNEL_PREDICTOR) return process.env.OUTLET_KERNEL_PREDICTOR;
  const adapted = adaptedPredictorPath(ep, threads, modelsDir);
  return existsSync(adapted) ? adapted : join(modelsDir, 'kernel-predictor.json');
}

/** Whether a predictor was adapted to this machine for a provider and thread count. */
export function adaptedHere(predictor: KernelPredictorFile, ep: string, threads: number): boolean {
  const a = predictor.adaptations?.[`${ep}/t${threads}`];
  return a !== undefined && a.fingerprint.id === machineFingerprint(describeMachine(), ep, threads).id;
}

/** How adapt measures a block (and `--evaluate` the real architectures): whole calls at no load, the rest of kernel-measure's protocol as it is. */
export const ADAPT_MEASURE = { levels: [0], warmup: 3, runs: 12, maxMsPerModel: 250, plainOnly: true };

/** The blocks adapt measures, the same on every machine (seeded): MLPs whose weights span the caches, then chained blocks of every family. */
export function adaptBlocks(maxBlocks = ADAPT_DEFAULTS.maxBlocks, seed = ADAPT_DEFAULTS.seed): BlockModel[] {
  const ladder = generateWeightLadder('adapt-mlp');
  return [...ladder, ...generateBlocks({ count: Math.max(0, maxBlocks - ladder.length), seed, prefix: 'adapt' })].slice(0, maxBlocks);
}

type MeasureOptions = { ep: ExecutionProvider; threads: number; cpus?: string; load: LoadGenerator; onProgress?: AdaptOptions['onProgress'] };

/** Time models' whole calls (adapt's protocol, no load): the run of each model it could time, by id. */
async function measureRuns(models: { id: string; bytes: Uint8Array }[], o: MeasureOptions): Promise<Map<string, MeasuredRun>> {
  const runs = await measureModels(models, {
    ...ADAPT_MEASURE, ep: o.ep, threads: o.threads, load: o.load,
    cpus: o.cpus ?? defaultMeasureCpus(o.threads), onProgress: o.onProgress,
  });
  return new Map([...runs].flatMap(([id, r]) => (r.length ? [[id, r[0]] as const] : [])));
}

/** Measure blocks (whole calls, no load) on one provider and thread count, with the kernels it runs for each; `set` names them. */
async function measure(blocks: BlockModel[], set: MeasuredModel['set'], o: MeasureOptions): Promise<MeasuredModel[]> {
  const key = `${o.ep}/t${o.threads}`;
  const models: MeasuredModel[] = [];
  const usable = [];
  for (const b of blocks) {
    try {
      const kernels = await runtimeKernels(b.bytes, o.ep, o.threads);
      models.push({ id: b.id, family: b.family, description: b.description, set, kernels: { [key]: kernels }, runs: {} });
      usable.push({ id: b.id, bytes: b.bytes });
    } catch {
      // a block this provider cannot open is left out
    }
  }
  const runs = await measureRuns(usable, o);
  for (const m of models) {
    const r = runs.get(m.id);
    if (r) m.runs[key] = [r];
  }
  return models.filter((m) => m.runs[key]);
}

/** A measured block as the fit sees it: its base prediction split by band (with `split`, or a step without; with `width`, narrow convolutions apart; with `l3Kb`, far gemms apart), its overhead, its likeness and the measured call. */
export function adaptRow(base: KernelPredictorFile, kernels: Kernel[], measured: number, o: { ep: string; threads: number; cacheKb: number | undefined; split: SizeSplit | undefined; width?: WidthSplit; l3Kb?: number }): AdaptRow {
  const p = predictBaseKernels(base, kernels, o.ep, o.threads, 0);
  const spills = spillsCache(kernels, o.cacheKb);
  const { ms, counts } = scaledTotals(p, spills, o.split, o.width, farShare(kernels, o.l3Kb));
  return { byClass: ms, counts, overhead: p.overhead_ms, total: p.total_ms, like: likenessOf(p, spills), measured };
}

/**
 * Fit the adaptation, minimizing squared relative error with every coefficient >= 0: per band of
 * its own a scale on its part of the kernels' predicted ms (within MAX_SCALE_SPREAD of the overall
 * ratio) and a constant per kernel (what a thread pool adds to every kernel, however small; at most
 * `maxPerKernelMs`), the call's overhead a scale and a constant.
 */
export function fitAdaptation(rows: AdaptRow[], maxPerKernelMs = MAX_PER_KERNEL_MS): Pick<KernelAdaptation, 'scale' | 'per_kernel_ms' | 'overhead_scale' | 'overhead_ms'> & { mape_before: number; mape_after: number } {
  const predicted = rows.reduce((s, r) => s + r.total, 0);
  const overall = predicted > 0 ? rows.reduce((s, r) => s + r.measured, 0) / predicted : 1;
  const share = (c: AdaptBand) => rows.reduce((s, r) => s + r.byClass[c], 0) / (predicted || 1);
  const leads = (c: AdaptBand) => rows.filter((r) => r.byClass[c] >= LEAD_SHARE * r.total).length;
  const own = ADAPT_BANDS.filter((c) => share(c) >= MIN_CLASS_SHARE || leads(c) >= LED_BLOCKS);
  const rest = ADAPT_BANDS.filter((c) => !own.includes(c));
  // A constant per kernel for each band its kernels pay one to (their class, with a size split),
  // where that band or its small kernels' band has a scale of its own.
  const constants = ADAPT_BANDS.filter((c) => rows.some((r) => r.counts[c] > 0) && (own.includes(c) || own.includes(`${c}/small` as AdaptBand)));
  // Columns: per band of its own its ms; per constant its kernel count; overhead; constant. The
  // other bands, at the overall ratio, move to the target. Scales stay near the overall ratio,
  // constants under their bound.
  const A = rows.map((r) => [...own.map((c) => r.byClass[c]), ...constants.map((c) => r.counts[c]), r.overhead, 1].map((v) => v / r.measured));
  const b = rows.map((r) => (r.measured - overall * rest.reduce((s, c) => s + r.byClass[c], 0)) / r.measured);
  const lower = [...own.map(() => overall / MAX_SCALE_SPREAD), ...constants.map(() => 0), 0, 0];
  const upper = [...own.map(() => overall * MAX_SCALE_SPREAD), ...constants.map(() => maxPerKernelMs), Infinity, Infinity];
  const x = boundedNnls(A, b, lower, upper);
  const scale: Partial<Record<AdaptBand, number>> = {};
  const perKernel: Partial<Record<AdaptBand, number>> = {};
  own.forEach((c, i) => (scale[c] = round(x[i])));
  constants.forEach((c, i) => (perKernel[c] = round(x[own.length + i], 5)));
  for (const c of rest) scale[c] = round(overall);
  const overheadScale = round(x[own.length + constants.length]);
  const overheadMs = round(x[own.length + constants.length + 1]);
  const fit = { scale, per_kernel_ms: perKernel, overhead_scale: overheadScale, overhead_ms: overheadMs };
  return { ...fit, mape_before: round(mape(rows, (r) => r.total), 2), mape_after: round(mape(rows, (r) => adaptedMs(r, fit)), 2) };
}

/** A measured block's call as an adaptation's scales predict it (ms). */
export function adaptedMs(r: AdaptRow, a: Pick<KernelAdaptation, 'scale' | 'per_kernel_ms' | 'overhead_scale' | 'overhead_ms'>): number {
  return ADAPT_BANDS.reduce((s, c) => s + r.byClass[c] * (a.scale[c] ?? 1) + r.counts[c] * (a.per_kernel_ms?.[c] ?? 0), 0) + Math.max(0, r.overhead * a.overhead_scale + a.overhead_ms);
}

const mape = (rows: AdaptRow[], f: (r: AdaptRow) => number) => (100 * rows.reduce((s, r) => s + Math.abs(f(r) - r.measured) / r.measured, 0)) / (rows.length || 1);

/**
 * The local correction (LocalCorrection) from the measured blocks: each block's likeness (from its
 * row) and what the fitted scales left of its error. On six sets of measurements on the Xeon
 * (240 blocks, then the 37 real stacks in two passes), the 40 nearest at size weight 0.5 took 2
 * threads from 70, 68, 65 % within ±10 % to 76, 76, 76 % (1 thread: 84, 78, 62 → 86, 70, 70),
 * with one scale per class. With the bands of today (size, width and far splits, blocks measured
 * twice), fitted offline on 22 collections (AMD EPYC and Xeon, 1 and 2 threads), the 20 nearest
 * scored 629 of 814 within ±10 %, the 40 nearest 614, the 10 nearest 636; on the 11 larger
 * architectures of two collections 19, 18 and 18 of 22. On five of them a size weight of 0.25-2
 * or the splits in the likeness did no better (earlier: a distance cut-off, or the neighbours'
 * ratio to the base prediction without the band scales).
 */
export function localCorrection(rows: AdaptRow[], a: Pick<KernelAdaptation, 'scale' | 'per_kernel_ms' | 'overhead_scale' | 'overhead_ms'>): LocalCorrection {
  return {
    k: LOCAL_NEIGHBOURS,
    size_weight: LOCAL_SIZE_WEIGHT,
    blocks: rows.map((r) => ({
      shares: Object.fromEntries(Object.entries(r.like.shares).map(([band, v]) => [band, round(v!)])),
      log_ms: round(r.like.log_ms),
      residual: round(r.measured / adaptedMs(r, a)),
    })),
  };
}

/** The fitted part of an adaptation from its rows: the scales (fitAdaptation), the size and width splits its rows were taken with, and the local correction. */
export function adaptationFit(rows: AdaptRow[], split: SizeSplit | undefined, width?: WidthSplit, maxPerKernelMs = MAX_PER_KERNEL_MS): Pick<KernelAdaptation, 'scale' | 'size_split' | 'width_split' | 'per_kernel_ms' | 'overhead_scale' | 'overhead_ms' | 'local'> & { mape_before: number; mape_after: number } {
  const fit = fitAdaptation(rows, maxPerKernelMs);
  return { ...fit, ...(split && { size_split: split }), ...(width && { width_split: width }), local: localCorrection(rows, fit) };
}

const round = (v: number, d = 4) => Number(v.toFixed(d));

/**
 * Least squares with each coefficient within [lower, upper] (lower >= 0): NNLS, then every free
 * coefficient out of its bounds is held at the bound it crossed and the rest fitted again.
 */
function boundedNnls(A: number[][], b: number[], lower: number[], upper: number[]): number[] {
  const held = new Map<number, number>();
  for (;;) {
    const residual = b.map((v, i) => v - [...held].reduce((s, [j, x]) => s + A[i][j] * x, 0));
    const x = nnls(A.map((row) => row.map((v, j) => (held.has(j) ? 0 : v))), residual);
    held.forEach((v, j) => (x[j] = v));
    const out = x.flatMap((v, j) => (!held.has(j) && (v < lower[j] || v > upper[j]) ? [j] : []));
    if (!out.length) return x;
    out.forEach((j) => held.set(j, x[j] < lower[j] ? lower[j] : upper[j]));
  }
}

/**
 * The predictor an adaptation to `ep` corrects: `base` where it has a model of that provider; else
 * (a provider never fitted, e.g. an accelerator) `base` with the CPU's forests standing for it:
 * they know how kernels' shapes compare, and the adaptation learns the provider's scale, its cost
 * per kernel and per call.
 */
export function adaptationSource(base: KernelPredictorFile, ep: string): KernelPredictorFile {
  if (base.models[ep]) return base;
  if (!base.models.cpu) throw new Error(`the kernel predictor has no model for '${ep}' nor for 'cpu' to adapt (it has: ${Object.keys(base.models).join(', ') || 'none'})`);
  return { ...base, models: { ...base.models, [ep]: base.models.cpu } };
}

/** Measure blocks on this machine within the budget and adapt the predictor to it (a copy; the base is not changed). */
export async function adaptKernelPredictor(base: KernelPredictorFile, options: Partial<AdaptOptions> = {}): Promise<{ predictor: KernelPredictorFile; adaptation: KernelAdaptation }> {
  const o = { ...ADAPT_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as AdaptOptions;
  const source = adaptationSource(base, o.ep);
  const started = Date.now();
  const blocks = adaptBlocks(o.maxBlocks, o.seed);
  // Which gemms spill: the cache of the threads (a CPU's; an accelerator's is its own business).
  const l2 = o.ep === 'cpu' ? l2KbPerCore() : undefined;
  const cacheKb = l2 === undefined ? undefined : l2 * o.threads;
  const l3 = o.ep === 'cpu' ? l3Kb() : undefined;
  try {
    await runtimeKernels(blocks[0].bytes, o.ep, o.threads);
  } catch (err) {
    throw new Error(`cannot run models on '${o.ep}' here: ${(err as Error).message}`);
  }
  const load = new LoadGenerator();
  const key = `${o.ep}/t${o.threads}`;
  const inBudget = () => (Date.now() - started) / 1000 < o.seconds;
  const progress = (offset: number) => (d: number) => o.onProgress?.(offset + d, 2 * blocks.length, `${o.ep}/t${o.threads}`);
  const measured: MeasuredModel[] = [];
  for (let i = 0; i < blocks.length && inBudget(); i += BATCH) {
    measured.push(...(await measure(blocks.slice(i, i + BATCH), 'fit', { ...o, load, onProgress: progress(i) })));
  }
  if (measured.length < 8) throw new Error(`only ${measured.length} blocks measured in ${o.seconds} s: give adapt more time (--minutes)`);
  // Then every block again while the budget lasts, and the faster visit counts. A virtual
  // machine's speed moves over seconds: a slow spell makes every call of the blocks it meets
  // 15-30 % slower (tens of µs up to 2×), never faster, so of two visits a minute apart the faster
  // is far more often the machine's own speed than one visit is.
  const bytes = new Map(blocks.map((b) => [b.id, b.bytes]));
  const again = new Map<string, number>();
  for (let i = 0; i < measured.length && inBudget(); i += BATCH) {
    const batch = measured.slice(i, i + BATCH).map((m) => ({ id: m.id, bytes: bytes.get(m.id)! }));
    for (const [id, r] of await measureRuns(batch, { ...o, load, onProgress: progress(blocks.length + i) })) again.set(id, r.run_ms);
  }
  const first = (m: MeasuredModel) => m.runs[key][0].run_ms;
  const rows = measured.map((m) => adaptRow(source, m.kernels[key], Math.min(first(m), again.get(m.id) ?? Infinity), { ep: o.ep, threads: o.threads, cacheKb, split: SIZE_SPLIT, width: WIDTH_SPLIT, l3Kb: l3 }));
  const twice = measured.filter((m) => again.has(m.id)).map((m) => ({ run_ms_a: first(m), run_ms_b: again.get(m.id)! }));
  const { mape_before, mape_after, ...fit } = adaptationFit(rows, SIZE_SPLIT, WIDTH_SPLIT, o.ep === 'cpu' ? MAX_PER_KERNEL_MS : Infinity);
  const adaptation: KernelAdaptation = {
    ep: o.ep,
    threads: o.threads,
    ...(base.models[o.ep] ? {} : { base_ep: 'cpu' }),
    fingerprint: machineFingerprint(describeMachine(), o.ep, o.threads),
    ...fit,
    ...(cacheKb !== undefined && { cache_kb: Math.round(cacheKb) }),
    ...(l3 !== undefined && { l3_kb: Math.round(l3) }),
    created_at: new Date().toISOString(),
    fit: {
      blocks: measured.length,
      seconds: Math.round((Date.now() - started) / 1000),
      mape_before,
      mape_after,
      cpus: pinnedCores(o.cpus ?? defaultMeasureCpus(o.threads)),
      visited_twice: twice.length,
      // How quiet the machine was: blocks whose two visits agree within ±10 % (with none measured twice, the two halves of the one).
      repeatable: twice.length
        ? round(twice.filter((v) => halvesApart(v) <= 0.1).length / twice.length, 2)
        : round(measured.filter((m) => halvesApart(m.runs[key][0]) <= 0.1).length / measured.length, 2),
    },
  };
  const predictor: KernelPredictorFile = { ...source, adaptations: { ...(source.adaptations ?? {}), [key]: adaptation } };
  return { predictor, adaptation };
}

/** What `--evaluate` scores: the real architectures (generateArchitectures), then the packages' pieces and whole files. */
export function evaluationModels(packages: string[], files: string[]): BlockModel[] {
  return [...generateArchitectures(), ...packagePieces(packages, files)];
}

/** Passes `--evaluate` measures its models in: the truth is their median, the noise floor how often one pass alone comes within ±10 % of it. */
export const EVALUATION_PASSES = 4;

const median = (xs: number[]) => summarize(xs).median;

/** How far one pass alone is from the passes' median (0.05: 5 %), per pass. */
export function passErrors(passesMs: number[]): number[] {
  const truth = median(passesMs);
  return passesMs.map((v) => Math.abs(v - truth) / truth);
}

/** The noise floor of models measured in passes: what one pass alone, as a predictor, would score against the passes' median (ScoreRow's noise fields). */
export function passFloor(models: number[][]): Pick<ScoreRow, 'noise_within_10pct' | 'noise_within_20pct' | 'noise_mape'> {
  const errors = models.flatMap(passErrors);
  const share = (t: number) => round(errors.filter((e) => e <= t).length / (errors.length || 1));
  return { noise_within_10pct: share(0.1), noise_within_20pct: share(0.2), noise_mape: round((100 * errors.reduce((a, b) => a + b, 0)) / (errors.length || 1)) };
}

/**
 * Models (for `--evaluate`, evaluationModels: the real architectures and the packages' pieces),
 * measured on this machine, scored with two predictors side by side, beside the noise floor.
 * They are measured in `passes` passes, one after the other. A virtual machine's speed moves over
 * seconds to minutes (one pass of a 15 µs piece at 27 µs, a 4 ms stack 15-20 % slower for a
 * pass), so the halves of one pass can agree better than two passes do: the truth is the passes'
 * median, which a slow spell in one pass does not move, and the noise floor what one pass alone
 * would score against it (with two passes, the median is their mean).
 */
export async function compareOnArchitectures(
  before: KernelPredictorFile,
  after: KernelPredictorFile,
  models: BlockModel[],
  o: { ep: ExecutionProvider; threads: number; cpus?: string; passes?: number; onProgress?: AdaptOptions['onProgress'] },
): Promise<{ before: ScoreRow; after: ScoreRow; details: { id: string; measured_ms: number; before_ms: number; after_ms: number; noise_pct: number; passes_ms: number[] }[] }> {
  const load = new LoadGenerator();
  const key = `${o.ep}/t${o.threads}`;
  // The first pass lists each model's kernels too; the others only time the models it could run.
  const first = await measure(models, 'architecture', { ...o, load });
  const runnable = models.filter((m) => first.some((f) => f.id === m.id));
  const passes = [new Map(first.map((m) => [m.id, m.runs[key][0].run_ms]))];
  while (passes.length < Math.max(2, o.passes ?? EVALUATION_PASSES)) {
    passes.push(new Map([...(await measureRuns(runnable, { ...o, load }))].map(([id, r]) => [id, r.run_ms])));
  }
  const measured = first.flatMap((m) => {
    const all = passes.map((p) => p.get(m.id));
    return all.every((v) => v !== undefined) ? [{ ...m, passesMs: all as number[], runs: { [key]: [{ ...m.runs[key][0], run_ms: median(all as number[]) }] } }] : [];
  });
  const floor = passFloor(measured.map((m) => m.passesMs));
  const row = (p: KernelPredictorFile) => ({ ...scoreModels(p, measured).rows.find((r) => r.cpu_util === 0)!, ...floor });
  const details = measured.map((m) => ({
    id: m.id,
    measured_ms: round(m.runs[key][0].run_ms),
    before_ms: round(predictKernels(before, m.kernels[key], o.ep, o.threads, 0).total_ms),
    after_ms: round(predictKernels(after, m.kernels[key], o.ep, o.threads, 0).total_ms),
    noise_pct: round(100 * Math.max(...passErrors(m.passesMs)), 2),
    passes_ms: m.passesMs.map((v) => round(v)),
  }));
  return { before: row(before), after: row(after), details };
}
