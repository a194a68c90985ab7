/**
 * The pure parts of `outlet bench --drift`: the corruptions that make the data drift, the task
 * sequence of a run (clean → corrupted → clean), and the metrics of a phase. No I/O here except
 * reading the mnist package's digits (heldOutPool), so that unit tests cover the rest.
 */
import { seededRandom } from '@outlet/onnx-cost';
import { quantile } from '@outlet/profiler';
import { MNIST_PIXELS, MNIST_SIDE, mnistClassPixels, upscaleNearest } from './mnist';

// ---- corruptions ----------------------------------------------------------------------------

export const CORRUPTIONS = ['noise', 'dim', 'shift'] as const;
export type CorruptionName = (typeof CORRUPTIONS)[number];
/** What a task's input is: the clean digit, or one corruption of it. */
export type InputKind = 'clean' | CorruptionName;

/**
 * σ of the additive Gaussian noise per model: a level at which the offline thresholds lose about
 * 30 points of agreement with the final exit (see DESIGN.md, "Static thresholds under drift").
 * branchy-bench's 112×112 input repeats each source pixel 16 times, so it averages noise out in
 * its first layers and needs a larger σ for a comparable drift.
 */
export const NOISE_SIGMA: Readonly<Record<string, number>> = { 'branchy-mnist': 0.3, 'branchy-bench': 0.5 };
/** σ for a model not named in NOISE_SIGMA. */
export const DEFAULT_NOISE_SIGMA = 0.3;
/** Dimming: every pixel times this (a darker, lower-contrast digit). */
export const DIM_FACTOR = 0.4;
/** Shift: the digit moves this many source pixels right and down; the uncovered rows and columns are 0 (background). */
export const SHIFT_PX = 4;

export function noiseSigma(model: string): number {
  return NOISE_SIGMA[model] ?? DEFAULT_NOISE_SIGMA;
}

/** One line per corruption, as the report prints it (pixels are 0..1, background 0). */
export function describeCorruption(kind: CorruptionName, model: string, upscale: number): string {
  const where = upscale > 1 ? ` (the ${MNIST_SIDE}×${MNIST_SIDE} digit upscaled ×${upscale} first)` : '';
  switch (kind) {
    case 'noise':
      return `noise: + Gaussian noise N(0, σ=${noiseSigma(model)}) per input pixel${where}, independent per task (seeded), clipped to [0, 1]`;
    case 'dim':
      return `dim: every pixel × ${DIM_FACTOR}`;
    case 'shift':
      return `shift: ${SHIFT_PX} px right and ${SHIFT_PX} px down in the ${MNIST_SIDE}×${MNIST_SIDE} source${upscale > 1 ? ` (before upscaling: ${SHIFT_PX * upscale} input px)` : ''}, zero fill`;
  }
}

/** A standard normal deviate from a uniform source (Box–Muller; 1 − u keeps the log finite). */
export function standardNormal(random: () => number): number {
  const u1 = 1 - random();
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** `image` + N(0, σ²) per pixel, clipped to [0, 1]; a new array. */
export function addGaussianNoise(image: ArrayLike<number>, sigma: number, random: () => number): Float32Array {
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = clip01(image[i] + sigma * standardNormal(random));
  return out;
}

/** Every pixel × factor; a new array. */
export function dimImage(image: ArrayLike<number>, factor: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = image[i] * factor;
  return out;
}

/** A square image moved dx pixels right and dy down (negative: left/up), zero fill; out[y][x] = in[y−dy][x−dx]. */
export function shiftImage(image: ArrayLike<number>, side: number, dx: number, dy: number): Float32Array {
  if (image.length !== side * side) throw new Error(`a ${side}×${side} image has ${side * side} pixels, not ${image.length}`);
  const out = new Float32Array(image.length);
  for (let y = 0; y < side; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= side) continue;
    for (let x = 0; x < side; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < side) out[y * side + x] = image[sy * side + sx];
    }
  }
  return out;
}

/** How a task's model input is made from its 28×28 source digit. */
export interface InputRecipe {
  kind: InputKind;
  /** The model's input side (a multiple of 28: the digit is upscaled by nearest neighbour). */
  side: number;
  /** Noise only: σ and the seed of the task's own noise. */
  sigma?: number;
  noiseSeed?: number;
}

/**
 * The model input of one task: shift and dim act on the 28×28 source, then the digit is upscaled
 * to the model's side (nearest neighbour, as branchy-bench was trained), then noise is added per
 * input pixel. Deterministic: the same recipe gives the same Float32 values in every process.
 */
export function makeInput(source: ArrayLike<number>, recipe: InputRecipe): Float32Array {
  if (source.length !== MNIST_PIXELS) throw new Error(`a source digit has ${MNIST_PIXELS} pixels, not ${source.length}`);
  if (recipe.side % MNIST_SIDE !== 0) throw new Error(`input side ${recipe.side} is not a multiple of ${MNIST_SIDE}`);
  let image: ArrayLike<number> = source;
  if (recipe.kind === 'shift') image = shiftImage(image, MNIST_SIDE, SHIFT_PX, SHIFT_PX);
  if (recipe.kind === 'dim') image = dimImage(image, DIM_FACTOR);
  const input = upscaleNearest(image, MNIST_SIDE, recipe.side / MNIST_SIDE);
  if (recipe.kind !== 'noise') return input;
  if (recipe.sigma === undefined || recipe.noiseSeed === undefined) throw new Error('noise needs sigma and noiseSeed');
  return addGaussianNoise(input, recipe.sigma, seededRandom(recipe.noiseSeed));
}

// ---- the task sequence ----------------------------------------------------------------------

/** One held-out digit of the mnist package: its class and its rank among the class's held-out samples. */
export interface DigitRef {
  label: number;
  nth: number;
}

/** Held-out samples of a class file of `count` digits: indices i with i % 5 == 4 (the project's test split). */
export function heldOutCountOf(count: number): number {
  return Math.floor(count / 5);
}

/** Every held-out digit of the mnist package, class by class. */
export function heldOutPool(): DigitRef[] {
  const pool: DigitRef[] = [];
  for (let label = 0; label < 10; label++) {
    const n = heldOutCountOf(mnistClassPixels(label).length / MNIST_PIXELS);
    for (let nth = 0; nth < n; nth++) pool.push({ label, nth });
  }
  return pool;
}

/** A seeded Fisher–Yates shuffle (a new array). */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [out[k], out[j]] = [out[j], out[k]];
  }
  return out;
}

export interface DriftPhase {
  name: 'clean' | 'corrupted' | 'clean again';
  kind: InputKind;
  /** Index of its first task in the run. */
  start: number;
  count: number;
}

export interface DriftTask extends DigitRef {
  /** Index in the run (0-based over all phases). */
  index: number;
  phase: number;
  recipe: InputRecipe;
  /** Equal keys, equal inputs: the in-process reference runs once per key. */
  key: string;
}

/** The seed of task `index`'s noise: a 32-bit mix of the run's seed and the index. */
export function taskNoiseSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * The tasks of one run: phases of `counts` = [clean, corrupted, clean again] tasks. Digits come
 * from one seeded shuffle of the held-out pool, walked in order across the phases (cycling when a
 * run is longer than the pool), so the same seed gives the same digits whatever the corruption and
 * the mode, and the clean phases of every corruption share their inputs.
 */
export function driftTasks(pool: readonly DigitRef[], counts: readonly number[], corruption: CorruptionName, side: number, sigma: number, seed: number): { phases: DriftPhase[]; tasks: DriftTask[] } {
  if (counts.length !== 3 || counts.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('phases must be three positive task counts: clean, corrupted, clean');
  if (pool.length === 0) throw new Error('no digits to draw from');
  const order = seededShuffle(pool, seed);
  const names: DriftPhase['name'][] = ['clean', 'corrupted', 'clean again'];
  const phases: DriftPhase[] = [];
  const tasks: DriftTask[] = [];
  let start = 0;
  counts.forEach((count, p) => {
    const kind: InputKind = p === 1 ? corruption : 'clean';
    phases.push({ name: names[p], kind, start, count });
    for (let k = 0; k < count; k++) {
      const index = start + k;
      const digit = order[index % order.length];
      const recipe: InputRecipe = kind === 'noise' ? { kind, side, sigma, noiseSeed: taskNoiseSeed(seed, index) } : { kind, side };
      const key = kind === 'noise' ? `noise:${sigma}:${recipe.noiseSeed}:${digit.label}:${digit.nth}` : `${kind}:${digit.label}:${digit.nth}`;
      tasks.push({ ...digit, index, phase: p, recipe, key });
    }
    start += count;
  });
  return { phases, tasks };
}

// ---- reference and the exit rule ------------------------------------------------------------

/** Every exit's decision for one input, computed in process: max softmax probability and its label. */
export interface ExitOutcome {
  confidence: number;
  label: number;
}

/** The exit the offline rule picks: the first early exit whose confidence reaches its threshold, else the final one. */
export function ruleExit(exits: readonly ExitOutcome[], thresholds: readonly number[]): number {
  for (let i = 0; i < exits.length - 1; i++) if (exits[i].confidence >= thresholds[i]) return i;
  return exits.length - 1;
}

// ---- metrics --------------------------------------------------------------------------------

/** What the bench keeps of one task sent through the system. */
export interface DriftSample {
  index: number;
  phase: number;
  /** The true digit. */
  label: number;
  /** The model's own final exit on this input (in process). */
  finalLabel: number;
  /** Absent when the request failed (then `error`). */
  answerLabel?: number;
  exitIndex?: number;
  /** The thresholds version the answer says it used (parameters.threshold_version), or one inferred from the history's times. */
  thresholdVersion?: number;
  latencyMs: number;
  /** Wall clock (ms) when the answer came. */
  at: number;
  taskId?: string;
  /** The plan the trunk used (parameters.plan: one placement per early exit). */
  plan?: string;
  error?: string;
}

export interface PhaseMetrics {
  name: string;
  kind: InputKind;
  tasks: number;
  errors: number;
  /** Answers whose label is the final exit's (in process), over answered tasks. */
  agreement: number;
  /** Answers whose label is the true digit. */
  accuracy: number;
  /** The final exit's accuracy on the same inputs (what full computation would give). */
  finalAccuracy: number;
  /** Segments the answering exit needed (manifest exits[i].after_segment + 1), mean. */
  meanSegments: number;
  /** Share of answers per exit. */
  exitShares: number[];
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Answers per thresholds version ('?' when the answer names none). */
  versions: Record<string, number>;
  /** Answers per plan the trunk used ('?' when the answer names none). */
  plans: Record<string, number>;
  /** Agreement over the tasks after the first `skip` of the phase (the corrupted phase's criterion). */
  after?: { skip: number; n: number; agreement: number };
  /** Index in the phase of the first answer with a thresholds version other than the one in force when the phase began. */
  firstChangeAt?: number;
  /** The last third of the phase (the clean-again phase's criterion). */
  lastThird?: { n: number; meanSegments: number; agreement: number };
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
const answered = (s: readonly DriftSample[]) => s.filter((x) => x.answerLabel !== undefined && x.exitIndex !== undefined);
const agreementOf = (s: readonly DriftSample[]) => mean(answered(s).map((x) => (x.answerLabel === x.finalLabel ? 1 : 0)));
const segmentsOf = (s: readonly DriftSample[], segmentsPerExit: readonly number[]) => mean(answered(s).map((x) => segmentsPerExit[x.exitIndex!]));

/**
 * The metrics of one phase's samples (in task order). `segmentsPerExit[i]` = exits[i].after_segment
 * + 1. `versionBefore`: the thresholds version of the last answer before the phase (undefined for
 * the first phase: the first answer's version). `skip`: also report agreement after the first
 * `skip` tasks. `lastThird`: also report the last third.
 */
export function phaseMetrics(
  phase: Pick<DriftPhase, 'name' | 'kind'>,
  samples: readonly DriftSample[],
  segmentsPerExit: readonly number[],
  options: { versionBefore?: number; skip?: number; lastThird?: boolean } = {},
): PhaseMetrics {
  const ok = answered(samples);
  const latencies = ok.map((x) => x.latencyMs).sort((a, b) => a - b);
  const exitShares = segmentsPerExit.map((_, e) => (ok.length ? ok.filter((x) => x.exitIndex === e).length / ok.length : 0));
  const versions: Record<string, number> = {};
  for (const x of ok) {
    const v = x.thresholdVersion === undefined ? '?' : String(x.thresholdVersion);
    versions[v] = (versions[v] ?? 0) + 1;
  }
  const plans: Record<string, number> = {};
  for (const x of ok) plans[x.plan ?? '?'] = (plans[x.plan ?? '?'] ?? 0) + 1;
  const out: PhaseMetrics = {
    name: phase.name,
    kind: phase.kind,
    tasks: samples.length,
    errors: samples.length - ok.length,
    agreement: agreementOf(ok),
    accuracy: mean(ok.map((x) => (x.answerLabel === x.label ? 1 : 0))),
    finalAccuracy: mean(samples.map((x) => (x.finalLabel === x.label ? 1 : 0))),
    meanSegments: segmentsOf(ok, segmentsPerExit),
    exitShares,
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP99Ms: quantile(latencies, 0.99),
    versions,
    plans,
  };
  if (options.skip !== undefined) {
    const rest = answered(samples.slice(options.skip));
    out.after = { skip: options.skip, n: rest.length, agreement: agreementOf(rest) };
  }
  const known = samples.filter((x) => x.thresholdVersion !== undefined);
  const before = options.versionBefore ?? known[0]?.thresholdVersion;
  if (before !== undefined) {
    const k = samples.findIndex((x) => x.thresholdVersion !== undefined && x.thresholdVersion !== before);
    if (k >= 0) out.firstChangeAt = k;
  }
  if (options.lastThird) {
    const tail = samples.slice(samples.length - Math.floor(samples.length / 3));
    out.lastThird = { n: answered(tail).length, meanSegments: segmentsOf(tail, segmentsPerExit), agreement: agreementOf(tail) };
  }
  return out;
}

/** The version of the last answer of a list (undefined when none names one). */
export function lastVersion(samples: readonly DriftSample[]): number | undefined {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i].thresholdVersion !== undefined) return samples[i].thresholdVersion;
  return undefined;
}

/**
 * A rolling mean over the last `window` values (fewer at the start), as [index, mean] points;
 * undefined values (failed tasks) are skipped. At most `maxPoints` points (evenly thinned).
 */
export function rollingMean(values: readonly (number | undefined)[], window: number, maxPoints = 600): [number, number][] {
  const points: [number, number][] = [];
  const buffer: number[] = [];
  let sum = 0;
  const every = Math.max(1, Math.ceil(values.length / maxPoints));
  values.forEach((v, i) => {
    if (v !== undefined) {
      buffer.push(v);
      sum += v;
      if (buffer.length > window) sum -= buffer.shift()!;
    }
    if (buffer.length && (i % every === 0 || i === values.length - 1)) points.push([i, sum / buffer.length]);
  });
  return points;
}

/** One change of the live thresholds, as GET /v1/models/{m}/thresholds lists it. */
export interface ThresholdHistoryEntry {
  version: number;
  /** Wall clock, ms. */
  at: number;
  thresholds: number[];
  kind?: string;
  reason?: string;
}

/** The thresholds version live at wall clock `at` by the history's times (the latest change at or before it). */
export function versionAt(history: readonly ThresholdHistoryEntry[], at: number): number | undefined {
  let best: ThresholdHistoryEntry | undefined;
  for (const h of history) if (h.at <= at && (!best || h.version > best.version)) best = h;
  return best?.version;
}

/**
 * Per exit (early exits only), the live threshold over the run's task indices, as step points:
 * each sample's version mapped to that version's thresholds by the history. Versions the history
 * does not hold are skipped; values above `cap` (an exit switched off) are drawn at `cap`.
 */
export function thresholdSeries(samples: readonly DriftSample[], history: readonly ThresholdHistoryEntry[], earlyExits: number, cap = 1.05): [number, number][][] {
  const byVersion = new Map(history.map((h) => [h.version, h.thresholds]));
  const series: [number, number][][] = Array.from({ length: earlyExits }, () => []);
  let previous: number[] | undefined;
  samples.forEach((s, i) => {
    const t = s.thresholdVersion === undefined ? undefined : byVersion.get(s.thresholdVersion);
    if (!t) return;
    const changed = !previous || previous.some((v, e) => v !== t[e]);
    if (changed || i === samples.length - 1) {
      for (let e = 0; e < earlyExits; e++) {
        // A step: hold the old value up to this task, then jump.
        if (previous && changed) series[e].push([i, Math.min(cap, previous[e])]);
        series[e].push([i, Math.min(cap, t[e])]);
      }
      previous = t;
    }
  });
  return series;
}
