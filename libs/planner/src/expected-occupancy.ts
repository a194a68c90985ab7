import { Placement } from '@outlet/contracts';
import { ExitStatistics } from './exit-statistics';
import { expectedFromTimeline } from './expected-latency';
import { Timeline, TimelineModel, timeline, trunkStopMs } from './timeline';

/**
 * What one task costs the node's two serial resources, per exit that may answer it.
 *
 * - `trunkMs`: from the task's start until the trunk stops working on it. An answer the trunk
 *   gives itself (inline head, final exit) stops it at once; after a branch answer the trunk has
 *   run on speculatively until it heard (answer time = decision + notify) and finishes the step in
 *   flight then (a segment, a fused segment + head, or a hand-off: trunkStopMs). The hand-offs it
 *   paid before are inside that time.
 * - `branchMs`: CPU time of the branch heads that ran: those that started before the answer (the
 *   branch worker drops a head whose task is already answered).
 */
export interface TaskOccupancy {
  trunkMs: number;
  branchMs: number;
}

/** Per exit (final included): the task's occupancy when that exit gives the answer. */
export function exitOccupancy(line: Timeline): TaskOccupancy[] {
  return line.exits.map((e) => {
    const answerMs = Math.min(e.answerMs, line.finalMs);
    let branchMs = 0;
    for (const h of line.exits) {
      if (h.placement === 'branch' && h.startMs !== undefined && h.endMs !== undefined && h.startMs < answerMs) branchMs += h.endMs - h.startMs;
    }
    return { trunkMs: trunkStopMs(line, answerMs), branchMs };
  });
}

/**
 * Throughput of a plan under a backlog (tasks waiting for the trunk, taken back to back). The
 * trunk is the serial resource: the next task starts when the trunk stops working on this one, so
 * throughput = 1 / E[trunk occupancy]; unless the one branch worker cannot keep up (E[branch CPU
 * time per task] is larger), then it is the bottleneck: throughput = 1 / max of the two.
 */
export interface ExpectedOccupancy {
  /** E[trunk occupancy per task], ms. */
  trunkMs: number;
  /** E[branch CPU time per task], ms. */
  branchMs: number;
  /** max(trunkMs, branchMs): the bottleneck's time per task. */
  occupancyMs: number;
  bottleneck: 'trunk' | 'branch';
  /** Predicted tasks per second under a backlog: 1000 / occupancyMs. */
  tasksPerS: number;
  /** Expected latency of the same plan (no backlog) and each exit's answer share. */
  expectedMs: number;
  answerShare: number[];
  /** Per exit (final included): the occupancy when it answers. */
  perExit: TaskOccupancy[];
}

/** Expected occupancy of a plan from its timeline and the exit statistics. */
export function occupancyFromTimeline(line: Timeline, stats: ExitStatistics): ExpectedOccupancy {
  const { expectedMs, answerShare } = expectedFromTimeline(line, stats);
  const perExit = exitOccupancy(line);
  let trunkMs = 0;
  let branchMs = 0;
  answerShare.forEach((share, i) => {
    if (share === 0) return;
    trunkMs += share * perExit[i].trunkMs;
    branchMs += share * perExit[i].branchMs;
  });
  const occupancyMs = Math.max(trunkMs, branchMs);
  return {
    trunkMs,
    branchMs,
    occupancyMs,
    bottleneck: branchMs > trunkMs ? 'branch' : 'trunk',
    tasksPerS: occupancyMs > 0 ? 1000 / occupancyMs : Infinity,
    expectedMs,
    answerShare,
    perExit,
  };
}

/** Expected occupancy (and so throughput under a backlog) of `plan` on `model`. */
export function expectedOccupancy(model: TimelineModel, plan: readonly Placement[], stats: ExitStatistics): ExpectedOccupancy {
  return occupancyFromTimeline(timeline(model, plan), stats);
}
