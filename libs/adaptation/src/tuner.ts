import { AuditRecord, EXIT_OFF, LiveThresholds, WindowStats } from '@outlet/contracts';
import { DEFAULT_THRESHOLD_GRID } from '@outlet/planner';
import { wilsonLowerBound, wilsonUpperBound } from './wilson';

/**
 * The online threshold tuner: pure logic, run about once a second by the one process that holds a
 * model version's tuner lease. It reads the audit records (tasks run to the end with every exit
 * head evaluated) and the live thresholds, and decides new ones.
 *
 * The exit rule is the offline calibration's: early exit i answers when its max softmax
 * probability >= thresholds[i], exits are tried in order, the final exit always answers. A
 * record "agrees" at some thresholds when the exit that would answer it gives the final exit's
 * label. Thresholds are held to agreement >= 1 - budget as a one-sided Wilson LOWER bound, so a
 * small window never lowers them on luck; the all-EXIT_OFF vector (the final exit answers every
 * task) agrees by definition and is always feasible.
 */

export interface TunerOptions {
  /** Allowed share of answers that disagree with the final exit (default 0.01). */
  budget: number;
  /** One-sided z of the Wilson bounds (default 1.645: about 95 %). */
  z: number;
  /** Thresholds tried per early exit, ascending; always holds EXIT_OFF. */
  grid: readonly number[];
  /** Per exit (final included): expected latency (ms) of a task answered there; cumulative, increasing. */
  exitCostMs: readonly number[];
  /** The offline calibration's thresholds, one per exit (the final's unused): the starting point. */
  calibrated: readonly number[];
  /** The offline calibration's exit probabilities per early exit: reported where no window record reaches an exit (optional). */
  calibratedExitProbabilities?: readonly number[];
  /** Most records in the window (default 2000). */
  longWindow: number;
  /** Newest window records checked for a drop in agreement (default 50). */
  recentWindow: number;
  /**
   * A drop is agreement on the recent records confidently below target − dropMargin (default: twice
   * the budget, so 4 disagreements in 50 at the defaults). A smaller margin reads chance as a drop
   * too often where the tuner sits (agreement near 99.5 %: 3 in 50 about once in 300 windows, 4 in
   * 50 once in 4,000), and each false drop costs a raise and a restarted window; smaller
   * shortfalls are left to the whole window (rule 2 of tune).
   */
  dropMargin: number;
  /** Window records needed before any lowering (default 200). */
  minRecordsToLower: number;
  /**
   * Window records needed before the whole window's agreement (its point estimate) may raise
   * thresholds (default 100): fewer say too little, and a drop shows in the newest records first.
   */
  minRecordsToRaise: number;
  /**
   * Newest records compared with the rest of the window to see a drift pass (default 200): when, at
   * the offline thresholds, they agree confidently more than the older ones (Wilson lower bound of
   * the newest above the upper bound of the older), the data has changed back and the window
   * restarts at them, so that records of the passed drift hold no threshold up.
   */
  changeWindow: number;
  /** Largest decrease of one threshold in one lowering (default 0.05). */
  lowerStep: number;
  /** New records since the last change needed before another lowering (default 50). */
  lowerEveryRecords: number;
  /** Share of tasks audited normally (default 0.05). */
  baseAuditRate: number;
  /** Share of tasks audited while recovering (default 0.5, the documented bound). */
  maxAuditRate: number;
}

export interface TuneDecision {
  /** `keep`: thresholds unchanged (the audit rate and exit probabilities may still change). */
  kind: 'keep' | 'raise' | 'lower';
  /** One per exit, the final's carried over from the live thresholds. */
  thresholds: number[];
  auditRate: number;
  /** Per early exit: share of the window's records reaching it that leave there at `thresholds` (measured once the window holds minRecordsToLower records; until then the live ones, if any). */
  exitProbabilities?: number[];
  windowSince: number;
  /** The (new) window at `thresholds`. */
  window: WindowStats;
  /** One human line, with numbers. */
  reason: string;
  /** The live thresholds to store: a new version and updatedAt only when the thresholds change. */
  live: LiveThresholds;
}

/** Vectors searched exhaustively up to this many; beyond, coordinate descent. */
const EXHAUSTIVE_LIMIT = 50_000;
/** Expected latencies closer than this (ms) tie. */
const COST_EPSILON = 1e-9;

/** The options without a default. */
type Needed = Pick<TunerOptions, 'exitCostMs' | 'calibrated'>;

/** Options with defaults filled in; the grid sorted, deduplicated and given EXIT_OFF. */
export function defaultTunerOptions(partial: Partial<TunerOptions> & Needed): TunerOptions {
  const options: TunerOptions = {
    budget: 0.01,
    z: 1.645,
    longWindow: 2000,
    recentWindow: 50,
    minRecordsToLower: 200,
    minRecordsToRaise: 100,
    changeWindow: 200,
    lowerStep: 0.05,
    lowerEveryRecords: 50,
    baseAuditRate: 0.05,
    maxAuditRate: 0.5,
    ...partial,
    dropMargin: partial.dropMargin ?? 2 * (partial.budget ?? 0.01),
    grid: [...new Set([...(partial.grid ?? DEFAULT_THRESHOLD_GRID), EXIT_OFF])].sort((a, b) => a - b),
  };
  const exits = options.exitCostMs.length;
  if (exits < 1) throw new Error('exitCostMs needs one entry per exit');
  if (options.calibrated.length !== exits) throw new Error(`calibrated has ${options.calibrated.length} thresholds for ${exits} exits`);
  if (!(options.budget > 0 && options.budget < 1)) throw new Error('budget must lie between 0 and 1');
  if (!(options.dropMargin >= 0)) throw new Error('dropMargin must be >= 0');
  if (options.grid.some((t) => !(t >= 0))) throw new Error('the threshold grid must hold numbers >= 0');
  return options;
}

// ---- evaluation -----------------------------------------------------------------------------

/** A window's records as columns, so that many threshold vectors evaluate fast. */
interface Columns {
  size: number;
  early: number;
  /** Per early exit, per record: max softmax probability. */
  confidence: Float64Array[];
  /** Per early exit, per record: 1 when its label is the final exit's. */
  agrees: Uint8Array[];
}

interface Evaluation {
  /** Early exits only. */
  thresholds: number[];
  records: number;
  agreed: number;
  lowerBound: number;
  expectedMs: number;
  /** Per exit (final included): records answered there. */
  exitCounts: number[];
}

function toColumns(records: readonly AuditRecord[], early: number): Columns {
  const confidence = Array.from({ length: early }, () => new Float64Array(records.length));
  const agrees = Array.from({ length: early }, () => new Uint8Array(records.length));
  records.forEach((record, r) => {
    const finalLabel = record.exits[early].label;
    for (let i = 0; i < early; i++) {
      confidence[i][r] = record.exits[i].confidence;
      agrees[i][r] = record.exits[i].label === finalLabel ? 1 : 0;
    }
  });
  return { size: records.length, early, confidence, agrees };
}

/** Whether no early exit can answer (every threshold above any probability). */
function allOff(thresholds: readonly number[]): boolean {
  return thresholds.every((t) => t > 1);
}

function evaluate(cols: Columns, thresholds: readonly number[], costs: readonly number[], z: number): Evaluation {
  const { size, early } = cols;
  const exitCounts = new Array<number>(early + 1).fill(0);
  let agreed = 0;
  for (let r = 0; r < size; r++) {
    let e = early;
    for (let i = 0; i < early; i++) {
      if (cols.confidence[i][r] >= thresholds[i]) {
        e = i;
        break;
      }
    }
    exitCounts[e]++;
    if (e === early || cols.agrees[e][r]) agreed++;
  }
  return evaluation(thresholds.slice(0, early), agreed, exitCounts, costs, z);
}

/** An evaluation from its counts (`thresholds` and `exitCounts` are kept, not copied). */
function evaluation(thresholds: number[], agreed: number, exitCounts: number[], costs: readonly number[], z: number): Evaluation {
  const records = exitCounts.reduce((a, b) => a + b, 0);
  const expectedMs = records ? exitCounts.reduce((sum, c, e) => sum + c * costs[e], 0) / records : 0;
  // The final exit agrees with itself: all-off needs no statistics to be safe.
  const lowerBound = allOff(thresholds) ? 1 : wilsonLowerBound(agreed, records, z);
  return { thresholds, records, agreed, lowerBound, expectedMs, exitCounts };
}

function agreement(ev: Evaluation): number {
  return ev.records ? ev.agreed / ev.records : 1;
}

function toStats(ev: Evaluation): WindowStats {
  return {
    records: ev.records,
    agreement: agreement(ev),
    lowerBound: ev.lowerBound,
    expectedMs: ev.expectedMs,
    exitShares: ev.exitCounts.map((c) => (ev.records ? c / ev.records : 0)),
  };
}

/**
 * Statistics of `records` (one window) at `thresholds` (one per exit, or per early exit). An
 * empty window agrees (nothing disagreed), with lower bound 0 (nothing is known) unless every
 * early exit is off, and expected latency 0.
 */
export function windowStats(records: readonly AuditRecord[], thresholds: readonly number[], exitCostMs: readonly number[], z: number): WindowStats {
  const early = exitCostMs.length - 1;
  return toStats(evaluate(toColumns(records, early), thresholds.slice(0, early), exitCostMs, z));
}

// ---- search ---------------------------------------------------------------------------------

/**
 * Cheaper expected latency first; ties go to higher agreement, then to higher thresholds (by sum,
 * then from exit 0 on, so that the order in which vectors are met never matters).
 */
function better(a: Evaluation, b: Evaluation): boolean {
  const dc = a.expectedMs - b.expectedMs;
  if (Math.abs(dc) > COST_EPSILON) return dc < 0;
  if (a.agreed !== b.agreed) return a.agreed > b.agreed;
  const sum = (t: number[]) => t.reduce((x, y) => x + y, 0);
  if (sum(a.thresholds) !== sum(b.thresholds)) return sum(a.thresholds) > sum(b.thresholds);
  const i = a.thresholds.findIndex((t, k) => t !== b.thresholds[k]);
  return i >= 0 && a.thresholds[i] > b.thresholds[i];
}

/** Per early exit, the thresholds a search may pick: the grid, or with a floor, the floor and the grid above it. */
function candidates(grid: readonly number[], early: number, floor?: readonly number[]): number[][] {
  return Array.from({ length: early }, (_, i) => {
    if (!floor) return [...grid];
    return [...new Set([floor[i], ...grid.filter((g) => g > floor[i])])].sort((a, b) => a - b);
  });
}

/**
 * Every vector of the candidate lists, exit by exit: the records reaching exit i are grouped by
 * how many of its candidates they clear, so that each candidate's leavers are read off running
 * counts and the records going on form one slice. The work is records + candidates per prefix of
 * a vector, not records per vector (3 early exits, 24 values: about 30 times less).
 */
function exhaustive(cols: Columns, lists: readonly number[][], costs: readonly number[], z: number, visit: (ev: Evaluation) => void): void {
  const { early, size } = cols;
  // cleared[i][r]: how many of exit i's candidates (ascending) record r's confidence reaches.
  const cleared = lists.map((list, i) =>
    Uint8Array.from(cols.confidence[i], (c) => {
      let k = 0;
      while (k < list.length && list[k] <= c) k++;
      return k;
    }),
  );
  const thresholds = new Array<number>(early);
  const exitCounts = new Array<number>(early + 1).fill(0);
  const finish = (agreed: number, toFinal: number) => {
    exitCounts[early] = toFinal;
    visit(evaluation(thresholds.slice(), agreed + toFinal, exitCounts.slice(), costs, z));
  };
  const walk = (i: number, reaching: Int32Array, agreed: number) => {
    const list = lists[i];
    const groupSize = new Int32Array(list.length + 1);
    const groupAgreed = new Int32Array(list.length + 1);
    for (const r of reaching) {
      groupSize[cleared[i][r]]++;
      groupAgreed[cleared[i][r]] += cols.agrees[i][r];
    }
    // At candidate k the records of groups 0..k go on: sorted by group, a prefix.
    const start = new Int32Array(list.length + 2);
    for (let g = 0; g <= list.length; g++) start[g + 1] = start[g] + groupSize[g];
    const last = i === early - 1;
    const sorted = last ? reaching : countingSort(reaching, cleared[i], start);
    let leaversAgreed = groupAgreed.reduce((a, b) => a + b, 0);
    for (let k = 0; k < list.length; k++) {
      leaversAgreed -= groupAgreed[k];
      thresholds[i] = list[k];
      exitCounts[i] = reaching.length - start[k + 1];
      if (last) finish(agreed + leaversAgreed, start[k + 1]);
      else walk(i + 1, sorted.subarray(0, start[k + 1]), agreed + leaversAgreed);
    }
  };
  if (early === 0) finish(0, size);
  else walk(0, Int32Array.from({ length: size }, (_, r) => r), 0);
}

/** `records` ordered by their group (stable), given where each group starts. */
function countingSort(records: Int32Array, group: Uint8Array, start: Int32Array): Int32Array {
  const next = start.slice();
  const sorted = new Int32Array(records.length);
  for (const r of records) sorted[next[group[r]]++] = r;
  return sorted;
}

/** The cheapest vector whose Wilson lower bound meets the target; all-off always does. */
function search(cols: Columns, options: TunerOptions, floor?: readonly number[]): Evaluation {
  const lists = candidates(options.grid, cols.early, floor);
  const target = 1 - options.budget;
  const { exitCostMs: costs, z } = options;
  // Every list ends at its most conservative value: EXIT_OFF (or a floor above it).
  let best = evaluate(cols, lists.map((l) => l[l.length - 1]), costs, z);
  const consider = (ev: Evaluation): boolean => {
    if (ev.lowerBound < target || !better(ev, best)) return false;
    best = ev;
    return true;
  };
  if (lists.reduce((p, l) => p * l.length, 1) <= EXHAUSTIVE_LIMIT) {
    exhaustive(cols, lists, costs, z, consider);
    return best;
  }
  // Coordinate descent from all-off: move one exit at a time while that helps.
  for (let improved = true; improved; ) {
    improved = false;
    for (let i = 0; i < cols.early; i++) {
      for (const value of lists[i]) {
        if (value === best.thresholds[i]) continue;
        const t = best.thresholds.slice();
        t[i] = value;
        if (consider(evaluate(cols, t, costs, z))) improved = true;
      }
    }
  }
  return best;
}

/**
 * The cheapest thresholds (per early exit) whose agreement on `records` meets the budget as a
 * Wilson lower bound, and the records' statistics at them; with `floor`, no threshold below it.
 */
export function cheapestFeasible(
  records: readonly AuditRecord[],
  options: TunerOptions,
  floor?: readonly number[],
): { thresholds: number[]; window: WindowStats } {
  const early = options.exitCostMs.length - 1;
  const best = search(toColumns(records, early), options, floor?.slice(0, early));
  return { thresholds: best.thresholds, window: toStats(best) };
}

// ---- lowering -------------------------------------------------------------------------------

/**
 * One lowering of a threshold toward `goal` (a grid value below it): an exit that is off first
 * reopens at the grid's highest value <= 1; otherwise it moves down by at most lowerStep, onto the
 * grid, but by at least one grid step, so that a coarse grid cannot stall it.
 */
function stepDown(current: number, goal: number, grid: readonly number[], lowerStep: number): number {
  if (current > 1) return Math.max(goal, ...grid.filter((g) => g <= 1));
  const below = grid.filter((g) => g < current);
  const within = below.find((g) => g >= Math.max(goal, current - lowerStep) - 1e-9);
  return within ?? Math.max(goal, below[below.length - 1]);
}

/**
 * The lowered vectors to try, in order of preference: every exit that can go lower stepped at
 * once; failing that, each alone (the joint step may fail where one exit's step would not).
 */
function loweredVectors(current: readonly number[], goal: readonly number[], options: TunerOptions): { joint: number[]; singles: number[][] } {
  const lower = current.map((_, i) => i).filter((i) => goal[i] < current[i]);
  const step = (i: number) => stepDown(current[i], goal[i], options.grid, options.lowerStep);
  return {
    joint: current.map((t, i) => (lower.includes(i) ? step(i) : t)),
    singles: lower.length > 1 ? lower.map((i) => current.map((t, j) => (j === i ? step(i) : t))) : [],
  };
}

// ---- the decision ---------------------------------------------------------------------------

/** Records at or after `since`, the newest `longWindow` of them (records of another exit count are ignored). */
function selectWindow(records: readonly AuditRecord[], since: number, options: TunerOptions): AuditRecord[] {
  const exits = options.exitCostMs.length;
  const window: AuditRecord[] = [];
  for (const record of records) {
    if (window.length >= options.longWindow) break;
    if (record.at >= since && record.exits.length === exits) window.push(record);
  }
  return window;
}

/** Per early exit: the share of the records reaching it that leave there; a fallback where none reach. */
function exitProbabilities(cols: Columns, thresholds: readonly number[], fallback: (i: number) => number): number[] {
  const reach = new Array<number>(cols.early).fill(0);
  const leave = new Array<number>(cols.early).fill(0);
  for (let r = 0; r < cols.size; r++) {
    for (let i = 0; i < cols.early; i++) {
      reach[i]++;
      if (cols.confidence[i][r] >= thresholds[i]) {
        leave[i]++;
        break;
      }
    }
  }
  return reach.map((n, i) => (thresholds[i] > 1 ? 0 : n ? leave[i] / n : fallback(i)));
}

/**
 * Exit probabilities without enough records to measure them (plans are made again from them, and
 * a handful of records would only make them churn): an exit that is off never answers; the others
 * keep their live (else calibrated) value; undefined when there is none.
 */
function knownExitProbabilities(current: LiveThresholds, thresholds: readonly number[], options: TunerOptions): number[] | undefined {
  const known = current.exitProbabilities ?? options.calibratedExitProbabilities;
  if (thresholds.every((t) => t > 1)) return thresholds.map(() => 0);
  return known ? thresholds.map((t, i) => (t > 1 ? 0 : known[i])) : undefined;
}

/**
 * The audit rate. The tuner audits at maxAuditRate, to get the data it needs quickly, while:
 * - this decision raises;
 * - the newest recentWindow window records are in doubt: their agreement at the thresholds is
 *   below target − dropMargin (a point estimate, short of the proof a drop needs), so that a drift
 *   shows in a few hundred tasks, not a few thousand;
 * - an early exit's threshold is above its calibrated value (EXIT_OFF included) and the window is
 *   not yet full (longWindow records): learning new data;
 * - the rate is still up from a raise and fewer than minRecordsToLower audits have arrived since
 *   the last change.
 * Otherwise baseAuditRate.
 */
function auditRate(kind: TuneDecision['kind'], thresholds: readonly number[], cols: Columns, current: LiveThresholds, sinceChange: number, options: TunerOptions): number {
  const recent = evaluate(firstRecords(cols, options.recentWindow), thresholds, options.exitCostMs, options.z);
  const doubt = recent.records > 0 && agreement(recent) < 1 - options.budget - options.dropMargin;
  const learning = thresholds.some((t, i) => t > options.calibrated[i]) && cols.size < options.longWindow;
  const stillUp = current.auditRate > options.baseAuditRate && sinceChange < options.minRecordsToLower;
  return kind === 'raise' || doubt || learning || stillUp ? options.maxAuditRate : options.baseAuditRate;
}

/** The first (newest) `n` records of some columns. */
function firstRecords(cols: Columns, n: number): Columns {
  const size = Math.min(n, cols.size);
  return { size, early: cols.early, confidence: cols.confidence.map((c) => c.subarray(0, size)), agrees: cols.agrees.map((a) => a.subarray(0, size)) };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const show = (t: readonly number[]) => t.map((x) => (x > 1 ? 'off' : String(x))).join(',');

/**
 * Decide the thresholds from the audit records (newest first) and the live thresholds:
 * 1. drop: the newest recentWindow window records (no fewer) at the live thresholds are confidently below
 *    target − dropMargin (Wilson upper bound) → raise to the cheapest vector at which those
 *    records alone agree (point estimate) at the target, no exit lower than now, and restart the
 *    window at them (older records describe other data);
 * 2. long-run violation: with minRecordsToRaise window records, the window's agreement at the
 *    live thresholds (point estimate) below target → raise likewise on the whole window, window
 *    unchanged. (A drift whose early answers are wrong and sure, as a shift makes them, shows
 *    here: too rarely for the newest records to prove it, too often for the budget);
 * 3. a drift has passed: at the offline thresholds, the newest changeWindow records agree
 *    confidently more than the older ones → the window restarts at them (keep);
 * 4. lower, slowly: with minRecordsToLower window records and lowerEveryRecords since the last
 *    change, and a cheaper feasible vector on the window (Wilson lower bound), step toward it
 *    (stepDown) when the stepped vector is itself feasible;
 * 5. otherwise keep.
 * Raising needs less evidence than lowering (a point estimate against a lower bound): between
 * the two the thresholds hold, so they do not flap. The window: records at or after
 * current.windowSince, the newest longWindow of them.
 */
export function tune(records: readonly AuditRecord[], current: LiveThresholds, options: TunerOptions, now: number): TuneDecision {
  const early = options.exitCostMs.length - 1;
  if (current.thresholds.length < early) throw new Error(`live thresholds have ${current.thresholds.length} entries for ${early} early exits`);
  const target = 1 - options.budget;
  const live = current.thresholds.slice(0, early);
  const window = selectWindow(records, current.windowSince, options);
  const cols = toColumns(window, early);
  const upper = (ev: Evaluation) => wilsonUpperBound(ev.agreed, ev.records, options.z);
  const decide = (kind: TuneDecision['kind'], thresholds: number[], windowSince: number, reason: string) =>
    decision(records, current, options, now, { kind, thresholds, windowSince, reason });

  // (1) A drop: judged on the newest records only, so that a large window cannot hide it.
  const recent = window.slice(0, options.recentWindow);
  const recentCols = toColumns(recent, early);
  const recentNow = evaluate(recentCols, live, options.exitCostMs, options.z);
  if (recent.length >= options.recentWindow && upper(recentNow) < target - options.dropMargin) {
    // As far as those records show and no further: the cheapest thresholds at which they agree
    // (their point estimate, z = 0) meets the target. A false alarm on a few records then costs a
    // small raise, not every early exit; a real drift raises again as its next records disagree.
    const raised = search(recentCols, { ...options, z: 0 }, live);
    const since = Math.min(...recent.map((r) => r.at));
    const why =
      `agreement fell: newest ${recent.length} audits agree ${pct(agreement(recentNow))} at ${show(live)} ` +
      `(Wilson upper ${pct(upper(recentNow))} < ${pct(target - options.dropMargin)}); window restarts; raised to ${show(raised.thresholds)}`;
    return decide('raise', raised.thresholds, since, why);
  }

  // (2) A violation over the whole window.
  const windowNow = evaluate(cols, live, options.exitCostMs, options.z);
  if (window.length >= options.minRecordsToRaise && agreement(windowNow) < target) {
    const raised = search(cols, options, live);
    const why =
      `agreement below budget: ${window.length} audits agree ${pct(agreement(windowNow))} at ${show(live)} ` +
      `(< ${pct(target)}); raised to ${show(raised.thresholds)}: agree ${pct(agreement(raised))} (Wilson lower ${pct(raised.lowerBound)})`;
    return decide('raise', raised.thresholds, current.windowSince, why);
  }

  // (3) A drift that has passed: the newest records, judged at the offline thresholds, are other
  // (better) data than the older ones; those would hold the thresholds up until they age out.
  const state = `${window.length} audits agree ${pct(agreement(windowNow))} at ${show(live)} (Wilson lower ${pct(windowNow.lowerBound)})`;
  const passed = driftPassed(window, options);
  if (passed) {
    const newest = window.slice(0, options.changeWindow);
    const since = Math.min(...newest.map((r) => r.at));
    return decide('keep', live, since, `${state}; ${passed}; window restarts at the newest ${newest.length}`);
  }

  // (4) Lower, slowly, only on enough data.
  const newer = window.filter((r) => r.at > current.updatedAt).length;
  if (window.length < options.minRecordsToLower) {
    return decide('keep', live, current.windowSince, `${state}; too few to lower (${options.minRecordsToLower} needed)`);
  }
  if (newer < options.lowerEveryRecords) {
    return decide('keep', live, current.windowSince, `${state}; ${newer} since the last change, ${options.lowerEveryRecords} needed to lower`);
  }
  const onWindow = lowerStep(cols, live, options);
  if (onWindow.lowered) {
    const { best, lowered } = onWindow;
    const why =
      `agreement holds: ${state}; cheapest feasible ${show(best.thresholds)}; lowered to ${show(lowered.thresholds)}: ` +
      `agree ${pct(agreement(lowered))} (Wilson lower ${pct(lowered.lowerBound)} >= ${pct(target)}), ` +
      `${windowNow.expectedMs.toFixed(2)} -> ${lowered.expectedMs.toFixed(2)} ms`;
    return decide('lower', lowered.thresholds, current.windowSince, why);
  }
  const why = onWindow.best ? `cheapest feasible ${show(onWindow.best.thresholds)}, but no step toward it is feasible` : 'no cheaper feasible thresholds';
  return decide('keep', live, current.windowSince, `${state}; ${why}`);
}

/**
 * Whether the newest changeWindow records, at the offline thresholds, agree confidently more
 * than the older window records (at least as many of those): a line saying so, else undefined.
 */
function driftPassed(window: readonly AuditRecord[], options: TunerOptions): string | undefined {
  const n = options.changeWindow;
  if (n < 1 || window.length < 2 * n) return undefined;
  const early = options.exitCostMs.length - 1;
  const probe = options.calibrated.slice(0, early);
  const newest = evaluate(toColumns(window.slice(0, n), early), probe, options.exitCostMs, options.z);
  const older = evaluate(toColumns(window.slice(n), early), probe, options.exitCostMs, options.z);
  const newestLower = wilsonLowerBound(newest.agreed, newest.records, options.z);
  const olderUpper = wilsonUpperBound(older.agreed, older.records, options.z);
  if (newestLower <= olderUpper) return undefined;
  return (
    `a drift has passed: at the offline thresholds ${show(probe)} the newest ${newest.records} audits agree ${pct(agreement(newest))} ` +
    `(Wilson lower ${pct(newestLower)}), the older ${older.records} ${pct(agreement(older))} (Wilson upper ${pct(olderUpper)})`
  );
}

/**
 * One slow step down on some records: toward the cheapest feasible vector, every exit that can go
 * lower at once or, failing that, the best single exit; the step itself must be feasible. `best`
 * is absent when nothing cheaper than the live thresholds is feasible.
 */
function lowerStep(cols: Columns, live: readonly number[], options: TunerOptions): { best?: Evaluation; lowered?: undefined } | { best: Evaluation; lowered: Evaluation } {
  const target = 1 - options.budget;
  const now = evaluate(cols, live, options.exitCostMs, options.z);
  const best = search(cols, options);
  // Lowering toward a vector no cheaper than now would only add risk. A single step itself may
  // gain nothing (reopening an exit at 1): it is still a step toward the gain.
  if (best.expectedMs >= now.expectedMs - COST_EPSILON) return {};
  const feasible = (t: number[]) => {
    const ev = evaluate(cols, t, options.exitCostMs, options.z);
    return ev.lowerBound >= target ? ev : undefined;
  };
  const { joint, singles } = loweredVectors(live, best.thresholds, options);
  let lowered = feasible(joint);
  for (const ev of lowered ? [] : singles.map(feasible)) if (ev && (!lowered || better(ev, lowered))) lowered = ev;
  return lowered ? { best, lowered } : { best };
}

/** The full decision: the window from its (new) start, its statistics, exit probabilities and audit rate at the chosen thresholds. */
function decision(
  records: readonly AuditRecord[],
  current: LiveThresholds,
  options: TunerOptions,
  now: number,
  d: Pick<TuneDecision, 'kind' | 'thresholds' | 'windowSince' | 'reason'>,
): TuneDecision {
  const early = options.exitCostMs.length - 1;
  const window = selectWindow(records, d.windowSince, options);
  const cols = toColumns(window, early);
  const previous = (i: number) =>
    [current.exitProbabilities?.[i], options.calibratedExitProbabilities?.[i]].find((p): p is number => Number.isFinite(p)) ?? 0;
  const sinceChange = d.kind === 'keep' ? window.filter((r) => r.at > current.updatedAt).length : 0;
  const result: Omit<TuneDecision, 'live'> = {
    kind: d.kind,
    thresholds: [...d.thresholds, current.thresholds[early] ?? 0],
    auditRate: auditRate(d.kind, d.thresholds, cols, current, sinceChange, options),
    exitProbabilities: window.length >= options.minRecordsToLower ? exitProbabilities(cols, d.thresholds, previous) : knownExitProbabilities(current, d.thresholds, options),
    windowSince: d.windowSince,
    window: toStats(evaluate(cols, d.thresholds, options.exitCostMs, options.z)),
    reason: d.reason,
  };
  return { ...result, live: nextLive(current, result, now) };
}

/** The live thresholds after a decision, as the contract counts changes (a `keep` may still move the audit rate). */
function nextLive(current: LiveThresholds, decision: Omit<TuneDecision, 'live'>, now: number): LiveThresholds {
  const changed = decision.kind !== 'keep';
  return {
    version: changed ? current.version + 1 : current.version,
    thresholds: decision.thresholds,
    auditRate: decision.auditRate,
    exitProbabilities: decision.exitProbabilities,
    updatedAt: changed ? now : current.updatedAt,
    windowSince: decision.windowSince,
    reason: changed ? decision.reason : current.reason,
  };
}
