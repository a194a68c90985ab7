import { DecisionLike, Placement, nowMs } from '@outlet/contracts';
import { isConfident, maxProbability } from './exit-rule';
import { Feature, MultiExitModel } from './multi-exit-model';

/** An exit decision: which exit answered, with what, where and when. */
export type ExitDecision = DecisionLike;

/** The trunk's pieces of work, wherever they run (a model thread, or in process). */
export interface TrunkSteps {
  segmentCount: number;
  /** Index of the exit that follows segment `s`, if any. */
  exitAfterSegment(segment: number): number | undefined;
  finalExit: number;
  /**
   * Run segment `s`; with `withExit`, its exit head in the same call (fused); with `handOffExit`,
   * hand the segment's output to that early exit's branch head (never waiting for the head).
   */
  runSegment(segment: number, options: { withExit: boolean; handOffExit?: number }): Promise<{ probabilities?: ArrayLike<number>; decidedAt: number }>;
}

export interface TrunkHooks {
  /** A branch head's answer heard since the task started, if any (checked before every segment). */
  earlyExit(): ExitDecision | undefined;
}

export interface TrunkOutcome {
  /** The trunk's own decision, or the branch answer that stopped it. */
  decision: ExitDecision;
  /** Segment indices run here, in order. */
  segmentsRan: number[];
  /** When each of them started (wall clock, ms). */
  segmentStarts: number[];
  handOffs: number;
  trunkStoppedAt: number;
  /**
   * For a branch answer: how long the trunk took to stop beyond the work it had in flight when the
   * branch decided; the stop's own cost.
   */
  abortReactionMs?: number;
}

/**
 * Run a task's trunk: segments in order; after each, the exit that follows it runs inline and
 * fused with the segment (`trunk`), is handed off (`branch`) or is skipped, as the plan says; the
 * final exit always runs inline. A branch answer heard before a segment stops the trunk: no
 * further segment starts. Between a branch answer and the trunk's own confident exit, the earlier
 * decision is the outcome (the answer key in Redis settles it for good; see @outlet/transport).
 */
export async function runTrunk(steps: TrunkSteps, plan: readonly Placement[], thresholds: readonly number[], hooks: TrunkHooks): Promise<TrunkOutcome> {
  const segmentsRan: number[] = [];
  const segmentStarts: number[] = [];
  /** [start, end] of every call run here. */
  const busy: [number, number][] = [];
  let handOffs = 0;
  const finish = (decision: ExitDecision): TrunkOutcome => {
    const trunkStoppedAt = nowMs();
    let abortReactionMs: number | undefined;
    if (decision.worker === 'branch') {
      // The work in flight when the branch decided: the segment running then, or the one the trunk
      // went on to start, when the decision fell in the synchronous step between two segments
      // (the hand-off, the next call), where the trunk cannot hear anything yet.
      const inFlight = busy.find(([, end]) => decision.decidedAt < end);
      abortReactionMs = Math.max(0, trunkStoppedAt - (inFlight ? inFlight[1] : decision.decidedAt));
    }
    return {
      decision,
      segmentsRan,
      segmentStarts,
      handOffs,
      trunkStoppedAt,
      abortReactionMs,
    };
  };

  for (let segment = 0; segment < steps.segmentCount; segment++) {
    const heard = hooks.earlyExit();
    if (heard) return finish(heard);
    const exitIndex = steps.exitAfterSegment(segment);
    const placement: Placement | undefined = exitIndex === undefined ? undefined : exitIndex === steps.finalExit ? 'trunk' : plan[exitIndex];
    const start = nowMs();
    segmentStarts.push(start);
    const result = await steps.runSegment(segment, {
      withExit: placement === 'trunk',
      handOffExit: placement === 'branch' ? exitIndex : undefined,
    });
    // The segment ended when its call says so (its hand-off may take the caller a little longer).
    busy.push([start, Math.min(result.decidedAt, nowMs())]);
    segmentsRan.push(segment);
    if (placement === 'branch') handOffs++;
    if (placement !== 'trunk' || exitIndex === undefined) continue;
    const probabilities = result.probabilities;
    if (!probabilities) throw new Error(`segment ${segment} ran with its exit head but returned no probabilities`);
    if (exitIndex === steps.finalExit || isConfident(probabilities, thresholds[exitIndex])) {
      const mine: ExitDecision = { exitIndex, probabilities, confidence: maxProbability(probabilities), worker: 'trunk', decidedAt: result.decidedAt };
      // A branch head may have decided meanwhile: the earlier decision is the answer.
      const other = hooks.earlyExit();
      return finish(other && other.decidedAt < mine.decidedAt ? other : mine);
    }
  }
  throw new Error('the final exit does not follow the last segment');
}

/**
 * Steps that run a model's sessions in this thread (the in-process baseline, tests): each
 * hand-off gives the feature to `handOff` at once. With `separateHeads`, an inline head runs as a
 * call of its own after its segment instead of fused with it (the unfused baseline).
 */
export function localTrunkSteps(
  model: MultiExitModel,
  input: Feature,
  handOff: (exitIndex: number, feature: Feature) => void = () => undefined,
  options: { separateHeads?: boolean } = {},
): TrunkSteps {
  let feature = input;
  return {
    segmentCount: model.manifest.segments.length,
    exitAfterSegment: (s) => model.exitAfterSegment(s),
    finalExit: model.manifest.exits.length - 1,
    async runSegment(segment, { withExit, handOffExit }) {
      let probabilities: Float32Array | undefined;
      if (withExit && !options.separateHeads) {
        ({ feature, probabilities } = await model.runSegmentWithExit(segment, feature));
      } else {
        feature = await model.runSegment(segment, feature);
        if (withExit) probabilities = await model.runExit(model.exitAfterSegment(segment)!, feature);
      }
      const decidedAt = nowMs();
      if (handOffExit !== undefined) handOff(handOffExit, feature);
      return { probabilities, decidedAt };
    },
  };
}
