import { Placement } from '@outlet/contracts';
import { ExitStatistics } from './exit-statistics';
import { PlannerError } from './stage-times';
import { Timeline, TimelineModel, timeline } from './timeline';

export interface ExpectedLatency {
  expectedMs: number;
  /** Probability that each exit (final included) gives the answer. */
  answerShare: number[];
}

/** Expected latency of a plan from its timeline's answer times and the exit statistics. */
export function expectedFromTimeline(line: Timeline, stats: ExitStatistics): ExpectedLatency {
  const n = line.exits.length - 1;
  if (stats.earlyExits !== n) throw new PlannerError(`exit statistics cover ${stats.earlyExits} early exits; the model has ${n}`);
  const answer = line.exits.map((e) => e.answerMs);
  const finalMs = line.finalMs;
  const share = new Array<number>(n + 1).fill(0);
  // Early exits that can answer before the final exit, earliest answer first (ties: lower index).
  const order = answer
    .slice(0, n)
    .map((ms, i) => ({ ms, i }))
    .filter((e) => e.ms < finalMs)
    .sort((a, b) => a.ms - b.ms || a.i - b.i);

  if (stats.mode === 'formula') {
    let remaining = 1;
    let expectedMs = 0;
    for (const { ms, i } of order) {
      const fires = remaining * stats.p[i];
      share[i] += fires;
      expectedMs += fires * ms;
      remaining *= 1 - stats.p[i];
    }
    share[n] += remaining;
    expectedMs += remaining * finalMs;
    return { expectedMs, answerShare: share };
  }

  let expectedMs = 0;
  for (const { mask, weight } of stats.patterns) {
    let exit = n;
    let ms = finalMs;
    for (const e of order) {
      if (mask & (1 << e.i)) {
        exit = e.i;
        ms = e.ms;
        break;
      }
    }
    share[exit] += weight;
    expectedMs += weight * ms;
  }
  return { expectedMs, answerShare: share };
}

/** Expected latency of `plan` on `model` (timeline + statistics). */
export function expectedLatency(model: TimelineModel, plan: readonly Placement[], stats: ExitStatistics): ExpectedLatency {
  return expectedFromTimeline(timeline(model, plan), stats);
}
