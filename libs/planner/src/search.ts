import { PLACEMENTS, Placement } from '@outlet/contracts';
import { ExitStatistics } from './exit-statistics';
import { expectedFromTimeline } from './expected-latency';
import { occupancyFromTimeline } from './expected-occupancy';
import { PlannerError } from './stage-times';
import { ExitTiming, TimelineModel, timeline, validateTimelineModel } from './timeline';

export interface SearchOptions {
  /**
   * Largest number of early exits searched exhaustively (3^n plans); above it, local search.
   * Default 10 (59,049 plans).
   */
  exhaustiveLimit?: number;
  /**
   * What the plan minimizes: `latency` (default; no backlog: each task alone, answer at the
   * first decision) or `throughput` (a backlog of tasks waits for the trunk: minimize the
   * bottleneck's time per task, max(E[trunk occupancy], E[branch CPU]); ties go to the lower
   * expected latency).
   */
  objective?: PlanObjective;
}

export type PlanObjective = 'latency' | 'throughput';

/** Predicted tasks per second of the presets under a backlog. */
export interface PresetThroughput {
  serial: number;
  parallel: number;
  full: number;
}

/** The chosen plan's cost under a backlog (see ExpectedOccupancy). */
export interface PlanOccupancy {
  trunkMs: number;
  branchMs: number;
  tasksPerS: number;
  bottleneck: 'trunk' | 'branch';
}

export interface PresetLatencies {
  serial: number;
  parallel: number;
  full: number;
}

/** What the planner chose for one CPU load, and why. */
export interface PlanResult {
  plan: Placement[];
  /** What the plan was chosen for. */
  objective: PlanObjective;
  expectedMs: number;
  presets: PresetLatencies;
  /** The chosen plan under a backlog: trunk occupancy, branch CPU time, tasks/s. */
  occupancy: PlanOccupancy;
  /** The presets' predicted tasks/s under a backlog. */
  presetsTasksPerS: PresetThroughput;
  /** Probability that each exit (final included) gives the answer under `plan`. */
  answerShare: number[];
  /** The chosen plan's timeline: per exit, when its head ran and when its answer would be known. */
  exits: ExitTiming[];
  finalMs: number;
  statistics: ExitStatistics['mode'];
  search: 'exhaustive' | 'local';
  plansEvaluated: number;
  /** The per-stage predicted times the plan was computed from. */
  inputs: {
    segmentMs: number[];
    trunkHeadMs: number[];
    /** Fused inline head times, when the stage times had them (used instead of trunkHeadMs). */
    fusedHeadMs?: number[];
    branchHeadMs: number[];
    handoffMs: number[];
    handoffTrunkMs: number[];
    abortMs: number;
    answerAt: TimelineModel['answerAt'];
  };
}

export function presetPlan(preset: 'serial' | 'parallel' | 'full', earlyExits: number): Placement[] {
  const placement: Placement = preset === 'serial' ? 'trunk' : preset === 'parallel' ? 'branch' : 'skip';
  return new Array<Placement>(earlyExits).fill(placement);
}

const EPSILON = 1e-9;

/** Order among plans of equal expected latency: fewer branch heads, then fewer trunk heads (less work). */
function work(plan: readonly Placement[]): number {
  let w = 0;
  for (const p of plan) w += p === 'branch' ? 1000 : p === 'trunk' ? 1 : 0;
  return w;
}

/** A plan's cost: `ms` first, then `then` (if any), then less work. */
interface Scored {
  ms: number;
  then?: number;
  plan: readonly Placement[];
}

function compare(a: number, b: number): number {
  const eps = EPSILON * Math.max(1, Math.abs(b));
  return a < b - eps ? -1 : a > b + eps ? 1 : 0;
}

function better(a: Scored, b: Scored | undefined): boolean {
  if (!b) return true;
  const first = compare(a.ms, b.ms);
  if (first !== 0) return first < 0;
  if (a.then !== undefined && b.then !== undefined) {
    const second = compare(a.then, b.then);
    if (second !== 0) return second < 0;
  }
  return work(a.plan) < work(b.plan);
}

/**
 * The plan with the lowest expected latency (objective `latency`) or the highest throughput under
 * a backlog (objective `throughput`: the lowest max(E[trunk occupancy], E[branch CPU time]), then
 * the lowest expected latency). Up to `exhaustiveLimit` early exits every one of the 3^n plans is
 * evaluated. Beyond, local search: starting from each preset, change one exit's placement at a
 * time while that lowers the cost, until no single change does; the best local optimum is
 * returned (never worse than the best preset, not guaranteed optimal).
 */
export function searchPlan(model: TimelineModel, stats: ExitStatistics, options: SearchOptions = {}): PlanResult {
  validateTimelineModel(model);
  const n = model.afterSegment.length - 1;
  if (stats.earlyExits !== n) throw new PlannerError(`exit statistics cover ${stats.earlyExits} early exits; the model has ${n}`);
  const limit = options.exhaustiveLimit ?? 10;
  const objective = options.objective ?? 'latency';
  if (objective !== 'latency' && objective !== 'throughput') throw new PlannerError(`unknown objective '${String(objective)}' (latency | throughput)`);
  let evaluated = 0;
  const score = (plan: readonly Placement[]): { ms: number; then?: number } => {
    evaluated++;
    const line = timeline(model, plan);
    if (objective === 'latency') return { ms: expectedFromTimeline(line, stats).expectedMs };
    const o = occupancyFromTimeline(line, stats);
    return { ms: o.occupancyMs, then: o.expectedMs };
  };

  let best: (Scored & { plan: Placement[] }) | undefined;
  let search: PlanResult['search'];
  if (n <= limit) {
    search = 'exhaustive';
    const digits = new Array<number>(n).fill(0);
    for (;;) {
      const plan = digits.map((d) => PLACEMENTS[d]);
      const candidate = { ...score(plan), plan };
      if (better(candidate, best)) best = candidate;
      let k = 0;
      while (k < n && digits[k] === PLACEMENTS.length - 1) digits[k++] = 0;
      if (k === n) break;
      digits[k]++;
    }
  } else {
    search = 'local';
    for (const preset of ['serial', 'parallel', 'full'] as const) {
      const start = presetPlan(preset, n);
      let current: Scored & { plan: Placement[] } = { ...score(start), plan: start };
      for (let improved = true; improved; ) {
        improved = false;
        for (let i = 0; i < n; i++) {
          for (const p of PLACEMENTS) {
            if (p === current.plan[i]) continue;
            const plan = current.plan.slice();
            plan[i] = p;
            const candidate = { ...score(plan), plan };
            if (better(candidate, current)) {
              current = candidate;
              improved = true;
            }
          }
        }
      }
      if (better(current, best)) best = current;
    }
  }
  const chosen = best!;
  const line = timeline(model, chosen.plan);
  const expected = occupancyFromTimeline(line, stats);
  const presets = (['serial', 'parallel', 'full'] as const).map((name) => occupancyFromTimeline(timeline(model, presetPlan(name, n)), stats));
  return {
    plan: chosen.plan,
    objective,
    expectedMs: expected.expectedMs,
    presets: { serial: presets[0].expectedMs, parallel: presets[1].expectedMs, full: presets[2].expectedMs },
    occupancy: { trunkMs: expected.trunkMs, branchMs: expected.branchMs, tasksPerS: expected.tasksPerS, bottleneck: expected.bottleneck },
    presetsTasksPerS: { serial: presets[0].tasksPerS, parallel: presets[1].tasksPerS, full: presets[2].tasksPerS },
    answerShare: expected.answerShare,
    exits: line.exits,
    finalMs: line.finalMs,
    statistics: stats.mode,
    search,
    plansEvaluated: evaluated,
    inputs: {
      segmentMs: [...model.times.segments],
      trunkHeadMs: [...model.times.trunkHeads],
      ...(model.times.fusedHeads ? { fusedHeadMs: [...model.times.fusedHeads] } : {}),
      branchHeadMs: model.times.branchHeads.slice(0, n),
      handoffMs: model.handoffMs.slice(0, n),
      handoffTrunkMs: model.handoffTrunkMs.slice(0, n),
      abortMs: model.abortMs,
      answerAt: model.answerAt,
    },
  };
}
