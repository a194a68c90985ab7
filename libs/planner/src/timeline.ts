import { Placement } from '@outlet/contracts';
import { PlannerError, StageTimesMs, inlineHeadMs, validateStageTimes } from './stage-times';

/**
 * When a confident branch head's answer counts as known:
 * - `decision`: at the head's end plus `abortMs` (the early-exit event reaching the trunk) — the
 *   planner's default, the method's model;
 * - `boundary`: when the trunk worker notices it, i.e. at its first check after that moment
 *   (before each segment) or when its own final exit answers, whichever is first. This is what
 *   today's trunk worker does: its job completes only at a segment boundary, because
 *   `session.run()` holds its event loop.
 */
export type AnswerTiming = 'decision' | 'boundary';

/** Everything the timeline needs about one model on one node at one CPU load. */
export interface TimelineModel {
  /** Segment each exit follows, final exit included (the last is the last segment). */
  afterSegment: number[];
  times: StageTimesMs;
  /** Per early exit: from the segment's end until the head is runnable on the branch worker. */
  handoffMs: number[];
  /** Per early exit: what handing the feature off costs the trunk (added to its timeline). */
  handoffTrunkMs: number[];
  /** Added to a branch head's decision (early-exit event; notify / abort). */
  abortMs: number;
  answerAt: AnswerTiming;
}

export interface ExitTiming {
  placement: Placement | 'final';
  /** Branch heads: when the feature is on the branch worker. */
  readyMs?: number;
  /** When the head started and ended (trunk or branch); absent for a skipped head. */
  startMs?: number;
  endMs?: number;
  /** When this exit's answer would be known if it is confident; Infinity when skipped. */
  answerMs: number;
}

export interface Timeline {
  /** Start and end of each segment on the trunk (assuming nothing stopped it earlier). */
  segments: { startMs: number; endMs: number }[];
  exits: ExitTiming[];
  /** When the final exit answers (the latency when no early exit is confident). */
  finalMs: number;
  /**
   * The trunk's work in order, as the calls it cannot break off: a segment, a segment fused with
   * its inline head (or the final exit), a hand-off. A trunk that hears of an answer finishes
   * the step in flight and starts no other (see trunkStopMs).
   */
  trunkSteps: { startMs: number; endMs: number; kind: 'segment' | 'fused' | 'handoff' }[];
}

/** Check that a timeline model is consistent (lengths, order of exits). */
export function validateTimelineModel(model: TimelineModel): void {
  const exits = model.afterSegment.length;
  const segments = model.times?.segments?.length ?? 0;
  if (exits < 1) throw new PlannerError('a model needs at least one exit');
  model.afterSegment.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 0 || (i > 0 && s <= model.afterSegment[i - 1])) {
      throw new PlannerError(`exit ${i} must follow a later segment than exit ${i - 1}`);
    }
  });
  if (model.afterSegment[exits - 1] !== segments - 1) throw new PlannerError('the final exit must follow the last segment');
  validateStageTimes(model.times, segments, exits);
  for (const [name, values] of [['handoffMs', model.handoffMs], ['handoffTrunkMs', model.handoffTrunkMs]] as const) {
    if (!Array.isArray(values) || values.length < exits - 1 || values.some((v) => !Number.isFinite(v) || v < 0)) {
      throw new PlannerError(`'${name}' must hold one time >= 0 per early exit (${exits - 1})`);
    }
  }
  if (!Number.isFinite(model.abortMs) || model.abortMs < 0) throw new PlannerError("'abortMs' must be >= 0");
}

/**
 * The timeline of one task under `plan` (one placement per early exit). The decision times do not
 * depend on which heads turn out confident: a confident head only stops later work, and every
 * later decision is later anyway (the trunk is sequential; the one branch worker runs heads in
 * hand-off order). So a task's latency is the earliest `answerMs` among its confident exits and
 * the final exit.
 */
export function timeline(model: TimelineModel, plan: readonly Placement[]): Timeline {
  const n = model.afterSegment.length - 1;
  if (plan.length !== n) throw new PlannerError(`plan has ${plan.length} placements; the model has ${n} early exits`);
  const { times } = model;
  const segments: Timeline['segments'] = [];
  const exits: ExitTiming[] = [];
  const trunkSteps: Timeline['trunkSteps'] = [];
  let t = 0;
  let branchFree = 0;
  let next = 0; // next segment to run
  for (let i = 0; i <= n; i++) {
    for (; next <= model.afterSegment[i]; next++) {
      segments.push({ startMs: t, endMs: t + times.segments[next] });
      trunkSteps.push({ startMs: t, endMs: t + times.segments[next], kind: 'segment' });
      t += times.segments[next];
    }
    const placement: Placement | 'final' = i === n ? 'final' : plan[i];
    if (placement === 'final' || placement === 'trunk') {
      const headMs = inlineHeadMs(times, i);
      exits.push({ placement, startMs: t, endMs: t + headMs, answerMs: t + headMs });
      t += headMs;
      const step = trunkSteps[trunkSteps.length - 1];
      step.endMs = t;
      step.kind = 'fused';
    } else if (placement === 'branch') {
      const readyMs = t + model.handoffMs[i];
      const startMs = Math.max(readyMs, branchFree);
      const endMs = startMs + times.branchHeads[i];
      branchFree = endMs;
      exits.push({ placement, readyMs, startMs, endMs, answerMs: endMs + model.abortMs });
      trunkSteps.push({ startMs: t, endMs: t + model.handoffTrunkMs[i], kind: 'handoff' });
      t += model.handoffTrunkMs[i];
    } else if (placement === 'skip') {
      exits.push({ placement, answerMs: Infinity });
    } else {
      throw new PlannerError(`unknown placement '${String(placement)}' for exit ${i}`);
    }
  }
  const finalMs = exits[n].answerMs;
  if (model.answerAt === 'boundary') {
    // The trunk checks for an early exit before each segment (the first needs no check).
    for (const e of exits) {
      if (e.placement !== 'branch') continue;
      const seen = segments.find((s, k) => k > 0 && s.startMs >= e.answerMs);
      e.answerMs = Math.min(seen ? seen.startMs : Infinity, finalMs);
    }
  }
  return { segments, exits, finalMs, trunkSteps };
}

/**
 * When the trunk stops working on a task that is answered at `answerMs`: the end of the trunk
 * step in flight at that moment (a step that ends exactly then counts as in flight: the trunk
 * starts nothing after it), never later than the final exit. For an answer the trunk gives
 * itself (inline head, final exit) this is the answer time.
 */
export function trunkStopMs(line: Timeline, answerMs: number): number {
  for (const step of line.trunkSteps) if (step.endMs >= answerMs) return step.endMs;
  return line.finalMs;
}

/** Latency of one task whose early exit i is confident when `confident[i]` (the final exit always is). */
export function taskLatency(line: Timeline, confident: readonly boolean[]): { ms: number; exit: number } {
  const n = line.exits.length - 1;
  let best = { ms: line.finalMs, exit: n };
  for (let i = 0; i < n; i++) {
    const a = line.exits[i].answerMs;
    if (confident[i] && a < best.ms) best = { ms: a, exit: i };
  }
  return best;
}
