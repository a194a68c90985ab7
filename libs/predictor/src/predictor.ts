import { interpolateOverUtilization, MachineDescription } from '@outlet/profiler';
import { featureVector } from './features';
import { nnls } from './nnls';

/**
 * The latency predictor: per execution provider and per measured CPU utilization level, a
 * non-negative linear model of run time (ms) on cost features (`feature_names`, see features.ts:
 * per-call constant, op count, conv / fc / pool / other MFLOP, MB moved and a few more). Coefficients are fitted by
 * non-negative least squares on relative error (each row divided by its measured time), so small
 * and large models count alike, as the ±10% metric does. Between levels, predictions are
 * interpolated linearly in u; outside the measured range the nearest level is used.
 */
export interface LevelModel {
  /** Target background utilization of this level. */
  cpu_util: number;
  /** Machine-wide utilization measured at this level while fitting. */
  achieved_util: number;
  /** CPU share the load generator's threads got at this level. */
  load_util?: number;
  /** One coefficient per feature (ms per unit). */
  coef: number[];
  /** Models it was fitted on. */
  n: number;
}

export interface ZooEntry {
  id: string;
  family: string;
  description: string;
  set: 'fit' | 'holdout';
  /** Every named feature (features.ts ALL_FEATURES), so a refit may choose another set. */
  features: Record<string, number>;
  mflop: number;
  /** Median ms per provider, one per level of `levels` (null where not measured). */
  median_ms: Record<string, (number | null)[]>;
  /** Spread per provider and level: [p10, p90] ms. */
  spread_ms?: Record<string, [number, number][]>;
}

export interface EvalRow {
  ep: string;
  cpu_util: number | 'all';
  n: number;
  /** Share of held-out predictions within ±10% of the measured median (nn-Meter's metric). */
  within_10pct: number;
  within_20pct: number;
  /** Mean absolute percentage error, %. */
  mape: number;
  /** Median absolute percentage error, %. */
  median_ape: number;
}

/**
 * predictor.json, written by `outlet predictor fit` (default models/predictor.json):
 * {
 *   "format": 1, "created_at": "...", "machine": {...}, "threads": 1,
 *   "feature_set": "extended", "feature_names": ["call", "ops", "conv_mflop", ...],
 *   "levels": [0, 0.25, 0.5, 0.75, 0.9],
 *   "models": { "cpu": [ { "cpu_util": 0, "achieved_util": 0.03, "load_util": 0, "coef": [...], "n": 118 }, ... ] },
 *   "unavailable_eps": { "webgpu": "...", "cuda": "..." },
 *   "zoo": { "seed": 42, "holdout_share": 0.3, "runs": 25, "warmup": 3,
 *            "entries": [ { "id": "zoo-000", "family": "conv", "description": "...", "set": "fit",
 *                           "features": { "call": 1, "conv_mflop": 12.7, ... }, "mflop": 12.7,
 *                           "median_ms": { "cpu": [0.11, 0.12, ...] },      // one per level
 *                           "spread_ms": { "cpu": [[0.1, 0.13], ...] } } ] }, // p10, p90
 *   "evaluation": [ { "ep": "cpu", "cpu_util": 0, "n": 50, "within_10pct": 0.5, "within_20pct": 0.7,
 *                     "mape": 14, "median_ape": 9.8 }, ..., { "ep": "cpu", "cpu_util": "all", ... } ]
 * }
 * Coefficients are ms per unit of each feature (ms per MFLOP, per MB, per op; "call" in ms).
 */
export interface FittedPredictor {
  format: 1;
  created_at: string;
  machine?: MachineDescription;
  threads: number;
  /** Name of the feature set (features.ts FEATURE_SETS). */
  feature_set?: string;
  feature_names: string[];
  /** Measured utilization levels, ascending. */
  levels: number[];
  models: Record<string, LevelModel[]>;
  zoo?: { seed: number; holdout_share: number; runs: number; warmup: number; entries: ZooEntry[] };
  evaluation?: EvalRow[];
  unavailable_eps?: Record<string, string>;
}

/** Fit one level: NNLS on rows scaled by 1/y (relative error). */
export function fitLevel(features: number[][], times: number[]): number[] {
  const rows = features.map((f, i) => f.map((v) => v / times[i]));
  return nnls(rows, times.map(() => 1));
}

export function dot(a: number[], b: number[]): number {
  return a.reduce((s, v, i) => s + v * b[i], 0);
}

/**
 * Predicted ms on `ep` at utilization `u` (interpolating between levels), from a feature vector in
 * the order of `predictor.feature_names`, or from named features.
 */
export function predictMs(predictor: FittedPredictor, ep: string, features: number[] | Record<string, number>, u: number): number {
  const x = Array.isArray(features) ? features : featureVector(features, predictor.feature_names);
  const levels = predictor.models[ep];
  if (!levels || levels.length === 0) {
    throw new Error(`the predictor has no model for execution provider '${ep}' (it has: ${Object.keys(predictor.models).join(', ') || 'none'})`);
  }
  return interpolateOverUtilization(levels.map((l) => ({ u: l.cpu_util, value: dot(l.coef, x) })), u);
}

/** Fit per provider and level from zoo entries of the fit set. */
export function fitPredictor(
  entries: ZooEntry[],
  levels: number[],
  featureNames: readonly string[],
  achieved: Record<string, number[]>,
  loadUtil: Record<string, number[]> = {},
): Record<string, LevelModel[]> {
  const eps = [...new Set(entries.flatMap((e) => Object.keys(e.median_ms)))];
  const models: Record<string, LevelModel[]> = {};
  for (const ep of eps) {
    models[ep] = levels.map((u, li) => {
      const rows = entries.filter((e) => e.set === 'fit' && typeof e.median_ms[ep]?.[li] === 'number' && e.median_ms[ep][li]! > 0);
      const coef = rows.length
        ? fitLevel(rows.map((e) => featureVector(e.features, featureNames)), rows.map((e) => e.median_ms[ep][li]!))
        : featureNames.map(() => 0);
      return { cpu_util: u, achieved_util: achieved[ep]?.[li] ?? NaN, load_util: loadUtil[ep]?.[li], coef, n: rows.length };
    });
  }
  return models;
}

function metrics(pairs: { predicted: number; measured: number }[]): Omit<EvalRow, 'ep' | 'cpu_util'> {
  const ape = pairs.map((p) => Math.abs(p.predicted - p.measured) / p.measured).sort((a, b) => a - b);
  const n = ape.length;
  const share = (t: number) => (n ? ape.filter((e) => e <= t).length / n : NaN);
  return {
    n,
    within_10pct: share(0.1),
    within_20pct: share(0.2),
    mape: n ? (100 * ape.reduce((a, b) => a + b, 0)) / n : NaN,
    median_ape: n ? 100 * ape[Math.floor((n - 1) / 2)] : NaN,
  };
}

/** Metrics on the held-out entries, per provider and level, and per provider over all levels. */
export function evaluatePredictor(predictor: FittedPredictor, entries: ZooEntry[] = predictor.zoo?.entries ?? []): EvalRow[] {
  const rows: EvalRow[] = [];
  for (const ep of Object.keys(predictor.models)) {
    const all: { predicted: number; measured: number }[] = [];
    predictor.levels.forEach((u, li) => {
      const pairs = entries
        .filter((e) => e.set === 'holdout' && typeof e.median_ms[ep]?.[li] === 'number')
        .map((e) => ({ predicted: predictMs(predictor, ep, e.features, u), measured: e.median_ms[ep][li]! }));
      all.push(...pairs);
      rows.push({ ep, cpu_util: u, ...metrics(pairs) });
    });
    rows.push({ ep, cpu_util: 'all', ...metrics(all) });
  }
  return rows;
}
