/**
 * Predicted run times of a model's stages, in milliseconds, at one CPU utilization. Another part
 * of the offline stage (profile / predictor) provides these; the planner only consumes them.
 *
 * - `segments[k]`: trunk segment k on the trunk's processor (the accelerator).
 * - `trunkHeads[i]`: exit head i run inline on the trunk's processor (every exit, the final one
 *   included: the final exit always runs there).
 * - `branchHeads[i]`: exit head i on the branch worker's CPU at this utilization (early exits;
 *   an entry for the final exit, if present, is ignored).
 * - `fusedHeads[i]` (optional): the extra ms exit head i adds when it runs fused with its segment
 *   as one call on the trunk's processor (the trunk worker fuses inline heads and the final exit
 *   with their segment), one per exit, the final one included. When present, the timeline uses
 *   it instead of `trunkHeads[i]` for inline heads and the final exit: most of a separate
 *   head's time on an accelerator is per-call cost that fusing removes.
 */
export interface StageTimesMs {
  segments: number[];
  trunkHeads: number[];
  branchHeads: number[];
  fusedHeads?: number[];
}

/** What an inline (`trunk`) head or the final exit adds to the trunk's timeline: fused if known, else separate. */
export function inlineHeadMs(times: StageTimesMs, exit: number): number {
  return times.fusedHeads?.[exit] ?? times.trunkHeads[exit];
}

export class PlannerError extends Error {}

function checkTimes(name: string, values: unknown, minLength: number): void {
  if (!Array.isArray(values) || values.length < minLength) {
    throw new PlannerError(`stage times: '${name}' must be an array of at least ${minLength} number(s)`);
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new PlannerError(`stage times: '${name}[${i}]' must be a finite number of ms >= 0 (got ${String(v)})`);
    }
  });
}

/** Check that stage times fit a model with `segmentCount` segments and `exitCount` exits (final included). */
export function validateStageTimes(times: StageTimesMs, segmentCount: number, exitCount: number): StageTimesMs {
  checkTimes('segments', times?.segments, segmentCount);
  checkTimes('trunkHeads', times.trunkHeads, exitCount);
  checkTimes('branchHeads', times.branchHeads, exitCount - 1);
  if (times.segments.length !== segmentCount) {
    throw new PlannerError(`stage times: 'segments' has ${times.segments.length} entries but the model has ${segmentCount} segments`);
  }
  if (times.trunkHeads.length !== exitCount) {
    throw new PlannerError(`stage times: 'trunkHeads' has ${times.trunkHeads.length} entries but the model has ${exitCount} exits`);
  }
  if (times.branchHeads.length > exitCount) {
    throw new PlannerError(`stage times: 'branchHeads' has ${times.branchHeads.length} entries but the model has ${exitCount} exits`);
  }
  if (times.fusedHeads !== undefined) {
    checkTimes('fusedHeads', times.fusedHeads, exitCount);
    if (times.fusedHeads.length !== exitCount) {
      throw new PlannerError(`stage times: 'fusedHeads' has ${times.fusedHeads.length} entries but the model has ${exitCount} exits`);
    }
  }
  return times;
}
