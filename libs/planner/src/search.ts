import { PLACEMENTS, Placement } from '@outlet/contracts';
import { ExitStatistics } from './exit-statistics';
import { expectedFromTimeline } from './expected-latency';
import { PlannerError } from './stage-times';
import { ExitTiming, TimelineModel, timeline, validateTimelineModel } from './timeline';

export interface SearchOptions {
  /**
   * Largest number of early exits searched exhaustively (3^n plans); above it, local search.
   * Default 10 (59,049 plans).
   */
  exhaustiveLimit?: number;
}

export interface PresetLatencies {
  serial: number;
  parallel: number;
  full: number;
}

/** What the planner chose for one CPU load, and why. */
export interface PlanResult {
  plan: Placement[];
  expectedMs: number;
  presets: PresetLatencies;
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

function better(a: { ms: number; plan: readonly Placement[] }, b: { ms: number; plan: readonly Placement[] } | undefined): boolean {
  if (!b) return true;
  if (a.ms < b.ms - EPSILON * Math.max(1, Math.abs(b.ms))) return true;
  if (a.ms > b.ms + EPSILON * Math.max(1, Math.abs(b.ms))) return false;
  return work(a.plan) < work(b.plan);
}

/**
 * The plan with the lowest expected latency. Up to `exhaustiveLimit` early exits every one of
 * the 3^n plans is evaluated. Beyond, local search: starting from each preset, change one exit's
 * placement at a time while that lowers the expected latency, until no single change does; the
 * best local optimum is returned (never worse than the best preset, not guaranteed optimal).
 */
export function searchPlan(model: TimelineModel, stats: ExitStatistics, options: SearchOptions = {}): PlanResult {
  validateTimelineModel(model);
  const n = model.afterSegment.length - 1;
  if (stats.earlyExits !== n) throw new PlannerError(`exit statistics cover ${stats.earlyExits} early exits; the model has ${n}`);
  const limit = options.exhaustiveLimit ?? 10;
  let evaluated = 0;
  const cost = (plan: readonly Placement[]) => {
    evaluated++;
    return expectedFromTimeline(timeline(model, plan), stats).expectedMs;
  };

  let best: { ms: number; plan: Placement[] } | undefined;
  let search: PlanResult['search'];
  if (n <= limit) {
    search = 'exhaustive';
    const digits = new Array<number>(n).fill(0);
    for (;;) {
      const plan = digits.map((d) => PLACEMENTS[d]);
      const candidate = { ms: cost(plan), plan };
      if (better(candidate, best)) best = candidate;
      let k = 0;
      while (k < n && digits[k] === PLACEMENTS.length - 1) digits[k++] = 0;
      if (k === n) break;
      digits[k]++;
    }
  } else {
    search = 'local';
    for (const preset of ['serial', 'parallel', 'full'] as const) {
      let current = { plan: presetPlan(preset, n), ms: 0 };
      current.ms = cost(current.plan);
      for (let improved = true; improved; ) {
        improved = false;
        for (let i = 0; i < n; i++) {
          for (const p of PLACEMENTS) {
            if (p === current.plan[i]) continue;
            const plan = current.plan.slice();
            plan[i] = p;
            const candidate = { plan, ms: cost(plan) };
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
  const expected = expectedFromTimeline(line, stats);
  const preset = (name: 'serial' | 'parallel' | 'full') => expectedFromTimeline(timeline(model, presetPlan(name, n)), stats).expectedMs;
  return {
    plan: chosen.plan,
    expectedMs: expected.expectedMs,
    presets: { serial: preset('serial'), parallel: preset('parallel'), full: preset('full') },
    answerShare: expected.answerShare,
    exits: line.exits,
    finalMs: line.finalMs,
    statistics: stats.mode,
    search,
    plansEvaluated: evaluated,
    inputs: {
      segmentMs: [...model.times.segments],
      trunkHeadMs: [...model.times.trunkHeads],
      branchHeadMs: model.times.branchHeads.slice(0, n),
      handoffMs: model.handoffMs.slice(0, n),
      handoffTrunkMs: model.handoffTrunkMs.slice(0, n),
      abortMs: model.abortMs,
      answerAt: model.answerAt,
    },
  };
}
