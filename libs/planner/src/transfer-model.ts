import { PlannerError } from './stage-times';

/** A cost that grows linearly with the number of bytes handed over. */
export interface LinearCost {
  fixed_ms: number;
  per_byte_ms: number;
}

/**
 * How a feature goes from the trunk to the branch worker on the same host: `shm` (a file in
 * /dev/shm, the default) or `redis` (the bytes in Redis, the fallback setting).
 */
export const HANDOFF_TRANSPORTS = ['shm', 'redis'] as const;
export type HandoffTransport = (typeof HANDOFF_TRANSPORTS)[number];
/** The transport the planner assumes unless told otherwise (the workers' default). */
export const DEFAULT_HANDOFF_TRANSPORT: HandoffTransport = 'shm';

/** One transport's hand-off: the time until the head is runnable, and the trunk's own cost. */
export interface HandoffCost {
  /** From before the trunk writes the feature to the branch worker holding it as a Float32Array. */
  transfer: LinearCost;
  /** The trunk's own cost: writing the feature plus the synchronous part of queue.add(). */
  trunk: LinearCost;
}

/**
 * The trunk → branch hand-off, measured by `outlet transfer` through the transport(s) the workers
 * use (the feature written to Redis with SET PX or to a /dev/shm file, a BullMQ subjob added; a
 * BullMQ worker in another process takes the job and reads the feature).
 *
 * `transfer` / `trunk` are the file's main hand-off model (version 1 files have only these; they
 * were measured through Redis). Version 2 files add `transports`: one model per transport;
 * `transport` names the one `transfer` / `trunk` describe. Read a cost through handoffCost().
 */
export interface TransferModel extends HandoffCost {
  /** Early-exit event: branch PUBLISH → the trunk's subscriber has it (the planner's abortMs). */
  notify_ms: number;
  /** Which transport the main `transfer` / `trunk` pair was measured through, when known. */
  transport?: HandoffTransport;
  /** One hand-off model per transport measured (version 2). */
  transports?: Partial<Record<HandoffTransport, HandoffCost>>;
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

/**
 * `transfer.json`: the fitted model and the points it was fitted to. Version 1: one hand-off
 * model (Redis) in `model`, its points in `points`. Version 2: `model.transports` holds one model
 * per transport and `by_transport` each one's fit and points; `model.transfer` / `trunk` /
 * `fit` / `points` repeat the main transport's (`model.transport`), so version 1 readers still work.
 */
export interface TransferFile {
  kind: 'outlet-transfer';
  version: 1 | 2;
  created_at: string;
  /** Where it was measured (host, cores, Node and Redis versions) and how. */
  host: Record<string, string | number>;
  method: string;
  model: TransferModel;
  /** Fit quality: weighted R² and each point's relative error against the fit. */
  fit: { transfer_r2: number; trunk_r2: number; fitted_on: string };
  points: (TransferPoint & { predicted_ms: number; relative_error: number })[];
  notify: { reps: number; p50_ms: number; mean_ms: number; p90_ms: number };
  /** Version 2: each transport's fit and points. */
  by_transport?: Partial<
    Record<HandoffTransport, { method?: string; fit: TransferFile['fit']; points: TransferFile['points'] }>
  >;
}

export const TRANSFER_FILE = 'transfer.json';

export function linearMs(cost: LinearCost, bytes: number): number {
  return cost.fixed_ms + cost.per_byte_ms * bytes;
}

/**
 * The hand-off model for `transport` (default shm): the file's model for it if it has one, else
 * the main one (`transfer` / `trunk`: whatever the file has, e.g. Redis in a version 1 file).
 */
export function handoffCost(model: TransferModel, transport: HandoffTransport = DEFAULT_HANDOFF_TRANSPORT): HandoffCost & { transport?: HandoffTransport } {
  const own = model.transports?.[transport];
  if (own) return { transfer: own.transfer, trunk: own.trunk, transport };
  return { transfer: model.transfer, trunk: model.trunk, transport: model.transport };
}

/** Which transport's measurements handoffCost(model, transport) uses ('redis' for a version 1 file; undefined if unknown). */
export function handoffTransportUsed(model: TransferModel, transport: HandoffTransport = DEFAULT_HANDOFF_TRANSPORT): HandoffTransport | undefined {
  return handoffCost(model, transport).transport;
}

/** Predicted hand-off time (runnable on the branch worker, after the segment ends) for a feature of `bytes`. */
export function handoffMs(model: TransferModel, bytes: number, transport: HandoffTransport = DEFAULT_HANDOFF_TRANSPORT): number {
  return linearMs(handoffCost(model, transport).transfer, bytes);
}

/** The trunk's own cost of handing off a feature of `bytes` (what it adds to the trunk's timeline). */
export function handoffTrunkMs(model: TransferModel, bytes: number, transport: HandoffTransport = DEFAULT_HANDOFF_TRANSPORT): number {
  return linearMs(handoffCost(model, transport).trunk, bytes);
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

/**
 * Check a parsed transfer.json (or its `model`) and return the model the planner uses. Reads
 * version 1 (one model, measured through Redis: `transport` becomes 'redis' when the file says
 * version 1) and version 2 (`transports`; a main `transfer` / `trunk` pair may be left out, then
 * the shm model, else the redis one, is the main one).
 */
export function transferModelFrom(raw: unknown): TransferModel {
  const obj = raw as Partial<TransferFile> & Partial<TransferModel>;
  const model = (obj && typeof obj === 'object' && 'model' in obj ? obj.model : obj) as Partial<TransferModel> | undefined;
  const cost = (c: LinearCost | undefined, name: string) => {
    if (!c || !Number.isFinite(c.fixed_ms) || !Number.isFinite(c.per_byte_ms) || c.per_byte_ms < 0) {
      throw new PlannerError(`transfer model: '${name}' must have finite fixed_ms and per_byte_ms >= 0`);
    }
    return { fixed_ms: c.fixed_ms, per_byte_ms: c.per_byte_ms };
  };
  if (!model || typeof model !== 'object') throw new PlannerError('transfer model: missing');
  const notify = model.notify_ms ?? 0;
  if (!Number.isFinite(notify) || notify < 0) throw new PlannerError("transfer model: 'notify_ms' must be a number >= 0");
  const isTransport = (t: unknown): t is HandoffTransport => (HANDOFF_TRANSPORTS as readonly unknown[]).includes(t);
  let transports: Partial<Record<HandoffTransport, HandoffCost>> | undefined;
  if (model.transports !== undefined) {
    if (!model.transports || typeof model.transports !== 'object') throw new PlannerError("transfer model: 'transports' must be an object");
    transports = {};
    for (const [name, c] of Object.entries(model.transports)) {
      if (!isTransport(name)) throw new PlannerError(`transfer model: unknown transport '${name}' (${HANDOFF_TRANSPORTS.join(', ')})`);
      transports[name] = { transfer: cost(c?.transfer, `transports.${name}.transfer`), trunk: cost(c?.trunk, `transports.${name}.trunk`) };
    }
  }
  if (model.transport !== undefined && !isTransport(model.transport)) {
    throw new PlannerError(`transfer model: unknown transport '${String(model.transport)}' (${HANDOFF_TRANSPORTS.join(', ')})`);
  }
  let transport = model.transport;
  let main: HandoffCost;
  if (model.transfer !== undefined || model.trunk !== undefined || !transports) {
    main = { transfer: cost(model.transfer, 'transfer'), trunk: cost(model.trunk, 'trunk') };
    if (transport === undefined && obj && 'model' in obj && obj.version === 1) transport = 'redis';
  } else {
    const first = HANDOFF_TRANSPORTS.find((t) => transports![t]);
    if (!first) throw new PlannerError("transfer model: 'transports' is empty and there is no 'transfer' / 'trunk'");
    main = transports[first]!;
    transport = first;
  }
  return {
    transfer: main.transfer,
    trunk: main.trunk,
    notify_ms: notify,
    ...(transport ? { transport } : {}),
    ...(transports ? { transports } : {}),
  };
}
