import { PlannerError } from './stage-times';

/** A cost that grows linearly with the number of bytes handed over. */
export interface LinearCost {
  fixed_ms: number;
  per_byte_ms: number;
}

/**
 * The trunk → branch hand-off, measured by `outlet transfer` through the transport the workers
 * use (Redis SET with PX + BullMQ add; a BullMQ worker in another process takes the job and GETs
 * the feature).
 */
export interface TransferModel {
  /** From before the trunk's SET to the branch worker holding the feature as a Float32Array. */
  transfer: LinearCost;
  /** The trunk's own cost: the SET round trip plus the synchronous part of queue.add(). */
  trunk: LinearCost;
  /** Early-exit event: branch PUBLISH → the trunk's subscriber has it (the planner's abortMs). */
  notify_ms: number;
}

/** One measured size: per-repetition times summarised. */
export interface TransferPoint {
  bytes: number;
  reps: number;
  /** Hand-off time (SET start → worker holds the Float32Array). */
  p50_ms: number;
  mean_ms: number;
  p90_ms: number;
  /** Trunk-side cost (SET round trip + add call). */
  trunk_p50_ms: number;
  trunk_mean_ms: number;
  /** When the branch side's processor got the job (before reading the feature), p50. */
  pickup_p50_ms?: number;
}

/** `transfer.json`: the fitted model and the points it was fitted to. */
export interface TransferFile {
  kind: 'outlet-transfer';
  version: 1;
  created_at: string;
  /** Where it was measured (host, cores, Node and Redis versions) and how. */
  host: Record<string, string | number>;
  method: string;
  model: TransferModel;
  /** Fit quality: weighted R² and each point's relative error against the fit. */
  fit: { transfer_r2: number; trunk_r2: number; fitted_on: string };
  points: (TransferPoint & { predicted_ms: number; relative_error: number })[];
  notify: { reps: number; p50_ms: number; mean_ms: number; p90_ms: number };
}

export const TRANSFER_FILE = 'transfer.json';

export function linearMs(cost: LinearCost, bytes: number): number {
  return cost.fixed_ms + cost.per_byte_ms * bytes;
}

/** Predicted hand-off time (runnable on the branch worker, after the segment ends) for a feature of `bytes`. */
export function handoffMs(model: TransferModel, bytes: number): number {
  return linearMs(model.transfer, bytes);
}

/** The trunk's own cost of handing off a feature of `bytes` (what it adds to the trunk's timeline). */
export function handoffTrunkMs(model: TransferModel, bytes: number): number {
  return linearMs(model.trunk, bytes);
}

export interface LinearFit {
  fixed: number;
  slope: number;
  /** Weighted coefficient of determination. */
  r2: number;
}

/**
 * Least squares fit of y = fixed + slope·x. With `relative` (the default) each point is weighted
 * by 1/y², i.e. the fit minimises relative error: hand-off sizes span 1 KB to 4 MB, and an
 * unweighted fit would let the few big features decide the fixed cost that small features pay.
 */
export function fitLinear(points: { x: number; y: number }[], options: { relative?: boolean } = {}): LinearFit {
  const { relative = true } = options;
  if (points.length < 2) throw new PlannerError('a linear fit needs at least 2 points');
  const w = points.map((p) => (relative ? 1 / Math.max(p.y * p.y, 1e-12) : 1));
  const sw = w.reduce((a, b) => a + b, 0);
  const mx = points.reduce((a, p, i) => a + w[i] * p.x, 0) / sw;
  const my = points.reduce((a, p, i) => a + w[i] * p.y, 0) / sw;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  points.forEach((p, i) => {
    sxx += w[i] * (p.x - mx) ** 2;
    sxy += w[i] * (p.x - mx) * (p.y - my);
    syy += w[i] * (p.y - my) ** 2;
  });
  if (sxx === 0) throw new PlannerError('a linear fit needs at least 2 different sizes');
  const slope = sxy / sxx;
  const fixed = my - slope * mx;
  let sse = 0;
  points.forEach((p, i) => (sse += w[i] * (p.y - fixed - slope * p.x) ** 2));
  return { fixed, slope, r2: syy === 0 ? 1 : 1 - sse / syy };
}

/** Check a parsed transfer.json (or its `model`) and return the model the planner uses. */
export function transferModelFrom(raw: unknown): TransferModel {
  const obj = raw as Partial<TransferFile> & Partial<TransferModel>;
  const model = (obj && typeof obj === 'object' && 'model' in obj ? obj.model : obj) as TransferModel | undefined;
  const cost = (c: LinearCost | undefined, name: string) => {
    if (!c || !Number.isFinite(c.fixed_ms) || !Number.isFinite(c.per_byte_ms) || c.per_byte_ms < 0) {
      throw new PlannerError(`transfer model: '${name}' must have finite fixed_ms and per_byte_ms >= 0`);
    }
    return { fixed_ms: c.fixed_ms, per_byte_ms: c.per_byte_ms };
  };
  if (!model) throw new PlannerError('transfer model: missing');
  const notify = model.notify_ms ?? 0;
  if (!Number.isFinite(notify) || notify < 0) throw new PlannerError("transfer model: 'notify_ms' must be a number >= 0");
  return { transfer: cost(model.transfer, 'transfer'), trunk: cost(model.trunk, 'trunk'), notify_ms: notify };
}
