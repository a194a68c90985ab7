import { ExitStatistics, conditionalExitProbabilities, empiricalStatistics, formulaStatistics } from './exit-statistics';
import { PlannerError } from './stage-times';

/**
 * Exit statistics from a labelled calibration set run through every exit, and the choice of
 * thresholds. Pure logic: the CLI (`outlet calibrate`) runs the model and writes the file.
 */

/** Per exit (final included), per sample: the head's max softmax probability and whether its argmax is right. */
export interface ExitRecords {
  confidence: Float32Array[];
  correct: Uint8Array[];
}

/** Thresholds tried per early exit: 0.5..0.95 by 0.05, then fine steps near 1. */
export const DEFAULT_THRESHOLD_GRID: readonly number[] = [
  0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995,
  0.9999, 0.99999, 1,
];

/** What running the model with given thresholds does, every exit evaluated in order, the first confident one answering. */
export interface ThresholdEvaluation {
  thresholds: number[];
  /** Accuracy in percent points (0..100). */
  accuracy: number;
  correct: number;
  samples: number;
  /** Samples answered at each exit (final included). */
  exitCounts: number[];
  /** Accuracy (percent) of the samples answered at each exit; null where none. */
  exitAccuracy: (number | null)[];
  /** Share of samples answered by an early exit. */
  earlyShare: number;
  /** Mean cost per sample (by default: segments run). */
  expectedCost: number;
}

/**
 * The cost of answering at each exit, for threshold choice: running the segments up to it and
 * the heads evaluated on the way. Default: one per segment, heads free — "expected segments run".
 */
export interface ExitCost {
  segments: number[];
  heads: number[];
}

function checkRecords(records: ExitRecords): { exits: number; samples: number } {
  const exits = records.confidence.length;
  if (exits < 1 || records.correct.length !== exits) throw new PlannerError('exit records need one confidence and one correct array per exit');
  const samples = records.confidence[0].length;
  if (samples === 0) throw new PlannerError('exit records hold no samples');
  for (let i = 0; i < exits; i++) {
    if (records.confidence[i].length !== samples || records.correct[i].length !== samples) {
      throw new PlannerError(`exit ${i} has a different number of samples than exit 0`);
    }
  }
  return { exits, samples };
}

/** Cumulative cost of answering at exit i, given the segment each exit follows. */
export function exitCosts(afterSegment: readonly number[], cost?: ExitCost): number[] {
  const segments = cost?.segments ?? new Array<number>(afterSegment[afterSegment.length - 1] + 1).fill(1);
  const heads = cost?.heads ?? new Array<number>(afterSegment.length).fill(0);
  const result: number[] = [];
  let total = 0;
  let next = 0;
  afterSegment.forEach((s, i) => {
    for (; next <= s; next++) total += segments[next];
    total += heads[i];
    result.push(total);
  });
  return result;
}

/** Index of the exit that answers sample s (first confident early exit, else the final one). */
function answeringExit(records: ExitRecords, thresholds: readonly number[], s: number): number {
  const n = records.confidence.length - 1;
  for (let i = 0; i < n; i++) if (records.confidence[i][s] >= thresholds[i]) return i;
  return n;
}

export function evaluateThresholds(
  records: ExitRecords,
  thresholds: readonly number[],
  afterSegment: readonly number[],
  cost?: ExitCost,
): ThresholdEvaluation {
  const { exits, samples } = checkRecords(records);
  if (afterSegment.length !== exits) throw new PlannerError(`afterSegment has ${afterSegment.length} entries for ${exits} exits`);
  const costs = exitCosts(afterSegment, cost);
  const exitCounts = new Array<number>(exits).fill(0);
  const exitCorrect = new Array<number>(exits).fill(0);
  let total = 0;
  for (let s = 0; s < samples; s++) {
    const e = answeringExit(records, thresholds, s);
    exitCounts[e]++;
    exitCorrect[e] += records.correct[e][s];
    total += costs[e];
  }
  const correct = exitCorrect.reduce((a, b) => a + b, 0);
  const t = [...thresholds.slice(0, exits - 1), 0];
  return {
    thresholds: t,
    accuracy: (100 * correct) / samples,
    correct,
    samples,
    exitCounts,
    exitAccuracy: exitCounts.map((c, i) => (c ? (100 * exitCorrect[i]) / c : null)),
    earlyShare: (samples - exitCounts[exits - 1]) / samples,
    expectedCost: total / samples,
  };
}

export interface ThresholdChoiceOptions {
  /** Allowed accuracy loss against the final exit alone, in percent points (default 0.5). */
  maxLossPoints?: number;
  grid?: readonly number[];
  cost?: ExitCost;
  /** Largest number of threshold vectors searched exhaustively (default 200,000); beyond, coordinate descent. */
  exhaustiveLimit?: number;
}

export interface ThresholdChoice {
  /** Chosen thresholds (final exit: 0); undefined when no vector on the grid meets the target. */
  thresholds?: number[];
  evaluation?: ThresholdEvaluation;
  finalAloneAccuracy: number;
  /** The accuracy a vector must reach: final alone − max loss. */
  requiredAccuracy: number;
  maxLossPoints: number;
  search: 'exhaustive' | 'coordinate-descent';
  vectorsEvaluated: number;
}

/**
 * Choose early-exit thresholds: among threshold vectors on the grid whose accuracy (every exit
 * evaluated in order, the first confident one answering) is at least final-alone − maxLoss, the one
 * with the lowest expected cost; ties go to higher accuracy, then to higher thresholds.
 */
export function chooseThresholds(records: ExitRecords, afterSegment: readonly number[], options: ThresholdChoiceOptions = {}): ThresholdChoice {
  const { exits, samples } = checkRecords(records);
  const n = exits - 1;
  const maxLossPoints = options.maxLossPoints ?? 0.5;
  const grid = [...(options.grid ?? DEFAULT_THRESHOLD_GRID)].sort((a, b) => a - b);
  if (grid.length === 0 || grid.some((t) => !(t >= 0 && t <= 1))) throw new PlannerError('the threshold grid must hold numbers from 0 to 1');
  const finalCorrect = records.correct[n].reduce((a, b) => a + b, 0);
  const finalAloneAccuracy = (100 * finalCorrect) / samples;
  // Compare in whole samples, so that floating point cannot flip a borderline vector.
  const requiredCorrect = finalCorrect - (maxLossPoints / 100) * samples - 1e-9;
  const limit = options.exhaustiveLimit ?? 200_000;
  let evaluated = 0;

  type Candidate = { t: number[]; ev: ThresholdEvaluation };
  const evaluate = (t: number[]): Candidate => {
    evaluated++;
    return { t, ev: evaluateThresholds(records, [...t, 0], afterSegment, options.cost) };
  };
  const feasible = (c: Candidate) => c.ev.correct >= requiredCorrect;
  const sum = (t: number[]) => t.reduce((a, b) => a + b, 0);
  const better = (a: Candidate, b: Candidate | undefined) => {
    if (!feasible(a)) return false;
    if (!b) return true;
    const dc = a.ev.expectedCost - b.ev.expectedCost;
    if (Math.abs(dc) > 1e-12) return dc < 0;
    if (a.ev.correct !== b.ev.correct) return a.ev.correct > b.ev.correct;
    return sum(a.t) > sum(b.t);
  };

  let best: Candidate | undefined;
  let search: ThresholdChoice['search'];
  if (n === 0 || grid.length ** n <= limit) {
    search = 'exhaustive';
    const idx = new Array<number>(n).fill(0);
    for (;;) {
      const c = evaluate(idx.map((k) => grid[k]));
      if (better(c, best)) best = c;
      let k = 0;
      while (k < n && idx[k] === grid.length - 1) idx[k++] = 0;
      if (k === n) break;
      idx[k]++;
    }
  } else {
    // Coordinate descent from the most conservative vector (every threshold at the grid's top).
    search = 'coordinate-descent';
    const top = evaluate(new Array<number>(n).fill(grid[grid.length - 1]));
    if (feasible(top)) best = top;
    for (let improved = true; improved && best; ) {
      improved = false;
      for (let i = 0; i < n; i++) {
        for (const g of grid) {
          if (g === best.t[i]) continue;
          const t = best.t.slice();
          t[i] = g;
          const c = evaluate(t);
          if (better(c, best)) {
            best = c;
            improved = true;
          }
        }
      }
    }
  }
  return {
    thresholds: best ? best.ev.thresholds : undefined,
    evaluation: best?.ev,
    finalAloneAccuracy,
    requiredAccuracy: finalAloneAccuracy - maxLossPoints,
    maxLossPoints,
    search,
    vectorsEvaluated: evaluated,
  };
}

/** One row of an exit's calibration table. */
export interface CalibrationRow {
  threshold: number;
  /** Exit alone: share of all samples whose max probability reaches the threshold, and their accuracy (%). */
  confident_share: number;
  confident_accuracy: number | null;
  /**
   * With the earlier exits at the chosen thresholds: the share of the samples reaching this exit
   * that leave here, and the accuracy (%) of those that leave.
   */
  exit_probability: number;
  leaver_accuracy: number | null;
}

export interface ExitCalibrationTable {
  exit: number;
  after_segment: number;
  /** Accuracy (%) of this exit answering every sample. */
  alone_accuracy: number;
  /** Samples that reach this exit with the earlier exits at the chosen thresholds. */
  reach: number;
  rows: CalibrationRow[];
}

/** Calibration tables: per early exit, one row per grid threshold. */
export function calibrationTables(
  records: ExitRecords,
  afterSegment: readonly number[],
  chosen: readonly number[],
  grid: readonly number[] = DEFAULT_THRESHOLD_GRID,
): ExitCalibrationTable[] {
  const { exits, samples } = checkRecords(records);
  const tables: ExitCalibrationTable[] = [];
  let reaching = Array.from({ length: samples }, (_, s) => s);
  for (let i = 0; i < exits - 1; i++) {
    const conf = records.confidence[i];
    const ok = records.correct[i];
    const rows = grid.map((threshold): CalibrationRow => {
      let all = 0;
      let allOk = 0;
      for (let s = 0; s < samples; s++) if (conf[s] >= threshold) (all++, (allOk += ok[s]));
      let leave = 0;
      let leaveOk = 0;
      for (const s of reaching) if (conf[s] >= threshold) (leave++, (leaveOk += ok[s]));
      return {
        threshold,
        confident_share: round(all / samples),
        confident_accuracy: all ? round((100 * allOk) / all) : null,
        exit_probability: reaching.length ? round(leave / reaching.length) : 0,
        leaver_accuracy: leave ? round((100 * leaveOk) / leave) : null,
      };
    });
    const alone = (100 * ok.reduce((a, b) => a + b, 0)) / samples;
    tables.push({ exit: i, after_segment: afterSegment[i], alone_accuracy: round(alone), reach: reaching.length, rows });
    reaching = reaching.filter((s) => conf[s] < chosen[i]);
  }
  return tables;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

// ---- calibration.json -----------------------------------------------------------------------

export const CALIBRATION_FILE = 'calibration.json';

/** `calibration.json` in a model package, written by `outlet calibrate`. */
export interface CalibrationFile {
  kind: 'outlet-calibration';
  version: 1;
  model: string;
  model_version: string;
  created_at: string;
  data: { source: string; samples: number };
  criterion: { rule: string; max_loss_points: number; cost: string; grid: number[] };
  final_alone_accuracy: number;
  /** Chosen thresholds, one per exit (final: 0); also written to manifest.json. */
  thresholds: number[];
  /** The chosen thresholds on the calibration data. */
  result: {
    accuracy: number;
    early_exit_share: number;
    exit_counts: number[];
    exit_accuracy: (number | null)[];
    expected_cost: number;
    meets_target: boolean;
  };
  /** p_i at the chosen thresholds (share of samples reaching exit i that leave there): the planner's formula mode. */
  exit_probability: number[];
  tables: ExitCalibrationTable[];
  /**
   * Per-sample records, compact: per exit, bits packed 8 per byte (sample s is bit s%8 of byte
   * s>>3, LSB first) and base64-encoded; confidences as little-endian float32, base64.
   * `confident` is at the chosen thresholds (the final exit's is all ones).
   */
  samples: { count: number; confident: string[]; correct: string[]; confidence_f32: string[] };
}

export function packBits(bits: ArrayLike<number | boolean>): string {
  const bytes = Buffer.alloc(Math.ceil(bits.length / 8));
  for (let s = 0; s < bits.length; s++) if (bits[s]) bytes[s >> 3] |= 1 << (s & 7);
  return bytes.toString('base64');
}

export function unpackBits(text: string, count: number): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < Math.ceil(count / 8)) throw new PlannerError(`packed bits hold ${bytes.length * 8} samples, fewer than ${count}`);
  const bits = new Uint8Array(count);
  for (let s = 0; s < count; s++) bits[s] = (bytes[s >> 3] >> (s & 7)) & 1;
  return bits;
}

export function packFloat32(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function unpackFloat32(text: string, count: number): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== count * 4) throw new PlannerError(`packed float32 holds ${bytes.length / 4} values, not ${count}`);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The per-sample records stored in a calibration file. */
export function recordsFromCalibration(file: CalibrationFile): ExitRecords {
  const n = file.samples.count;
  return {
    confidence: file.samples.confidence_f32.map((t) => unpackFloat32(t, n)),
    correct: file.samples.correct.map((t) => unpackBits(t, n)),
  };
}

/** confident[s][i] per sample and early exit: stored at the chosen thresholds, or recomputed for others. */
export function confidentMatrix(file: CalibrationFile, thresholds?: readonly number[]): boolean[][] {
  const n = file.samples.count;
  const early = file.thresholds.length - 1;
  const same = !thresholds || thresholds.slice(0, early).every((t, i) => t === file.thresholds[i]);
  const columns: ArrayLike<number>[] = [];
  for (let i = 0; i < early; i++) {
    if (same) columns.push(unpackBits(file.samples.confident[i], n));
    else {
      const conf = unpackFloat32(file.samples.confidence_f32[i], n);
      columns.push(Array.from(conf, (c) => (c >= thresholds![i] ? 1 : 0)));
    }
  }
  return Array.from({ length: n }, (_, s) => columns.map((c) => c[s] === 1));
}

/**
 * The planner's exit statistics from a calibration file: empirical (per-sample matrix) when the
 * file has it, else the formula with its `exit_probability`. `thresholds` (default: the file's)
 * recomputes the matrix for other thresholds.
 */
export function statisticsFromCalibration(file: CalibrationFile, thresholds?: readonly number[]): ExitStatistics {
  const early = file.thresholds.length - 1;
  if (file.samples?.count > 0 && file.samples.confident?.length >= early) {
    return empiricalStatistics(confidentMatrix(file, thresholds), early);
  }
  if (thresholds && thresholds.slice(0, early).some((t, i) => t !== file.thresholds[i])) {
    throw new PlannerError('calibration file has no per-sample records: it cannot give statistics for other thresholds');
  }
  return formulaStatistics(file.exit_probability.slice(0, early));
}

/** Build the calibration file's content. */
export function buildCalibrationFile(args: {
  model: string;
  modelVersion: string;
  source: string;
  records: ExitRecords;
  afterSegment: readonly number[];
  choice: ThresholdChoice;
  thresholds: readonly number[];
  grid?: readonly number[];
  costName?: string;
  createdAt?: string;
}): CalibrationFile {
  const { records, afterSegment, choice } = args;
  const grid = [...(args.grid ?? DEFAULT_THRESHOLD_GRID)];
  const thresholds = [...args.thresholds.slice(0, afterSegment.length - 1), 0];
  const ev = evaluateThresholds(records, thresholds, afterSegment);
  const count = records.confidence[0].length;
  const confident = records.confidence.map((conf, i) =>
    packBits(Array.from(conf, (c) => (i === records.confidence.length - 1 || c >= thresholds[i] ? 1 : 0))),
  );
  const earlyExits = afterSegment.length - 1;
  const matrix = Array.from({ length: count }, (_, s) => records.confidence.slice(0, earlyExits).map((c, i) => c[s] >= thresholds[i]));
  return {
    kind: 'outlet-calibration',
    version: 1,
    model: args.model,
    model_version: args.modelVersion,
    created_at: args.createdAt ?? new Date().toISOString(),
    data: { source: args.source, samples: count },
    criterion: {
      rule: 'exit when max softmax probability >= threshold; every exit evaluated in order, the first confident one answers; final exit always answers',
      max_loss_points: choice.maxLossPoints,
      cost: args.costName ?? 'expected segments run (ties: higher accuracy, then higher thresholds)',
      grid,
    },
    final_alone_accuracy: round(choice.finalAloneAccuracy),
    thresholds,
    result: {
      accuracy: round(ev.accuracy),
      early_exit_share: round(ev.earlyShare),
      exit_counts: ev.exitCounts,
      exit_accuracy: ev.exitAccuracy.map((a) => (a === null ? null : round(a))),
      expected_cost: round(ev.expectedCost),
      meets_target: ev.correct >= (choice.finalAloneAccuracy / 100) * count - (choice.maxLossPoints / 100) * count - 1e-6,
    },
    exit_probability: conditionalExitProbabilities(matrix, earlyExits).map(round),
    tables: calibrationTables(records, afterSegment, thresholds, grid),
    samples: {
      count,
      confident,
      correct: records.correct.map((c) => packBits(c)),
      confidence_f32: records.confidence.map(packFloat32),
    },
  };
}
