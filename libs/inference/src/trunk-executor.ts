import { Placement, nowMs } from '@outlet/contracts';
import { isConfident, maxProbability } from './exit-rule';
import { Feature, MultiExitModel } from './multi-exit-model';

/** An exit decision: which exit answered, with what, where and when. */
export interface ExitDecision {
  exitIndex: number;
  probabilities: ArrayLike<number>;
  confidence: number;
  worker: 'branch' | 'trunk';
  /** Wall clock (ms) of the decision. */
  decidedAt: number;
}

/** How the trunk talks to the exit heads that run elsewhere (the branch worker). */
export interface TrunkHooks {
  /** Hand a feature to the branch head `exitIndex`; must not wait for the head to run. */
  handOff(exitIndex: number, feature: Feature): Promise<void> | void;
  /** An early exit decided elsewhere since the task started, if any; checked between segments. */
  pollEarlyExit(): Promise<ExitDecision | undefined>;
}

export interface TrunkOutcome {
  decision: ExitDecision;
  /** Segment indices run here, in order. */
  segmentsRan: number[];
  /** Segments started after the answer was already decided (work wasted by a late abort). */
  segmentsAfterAnswer: number;
  trunkStoppedAt: number;
  /**
   * For a branch answer: how long the trunk took to stop beyond the work it had in flight when the
   * branch decided (a segment or an inline head); the abort's own cost.
   */
  abortReactionMs?: number;
}

/**
 * Run a task's trunk: segments in order; after each, the exit that follows it runs inline
 * (`trunk`), is handed off (`branch`) or is skipped, as the plan says; the final exit always runs
 * inline. Before every segment, an early exit decided by a branch head stops the trunk.
 */
export async function runTrunk(
  model: MultiExitModel,
  input: Feature,
  plan: Placement[],
  thresholds: number[],
  hooks: TrunkHooks,
): Promise<TrunkOutcome> {
  const finalExit = model.manifest.exits.length - 1;
  const segmentsRan: number[] = [];
  const segmentStarts: number[] = [];
  /** [start, end] of every piece of work run here (segments and inline heads). */
  const busy: [number, number][] = [];
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const start = nowMs();
    const result = await work();
    busy.push([start, nowMs()]);
    return result;
  };
  const finish = (decision: ExitDecision): TrunkOutcome => {
    const trunkStoppedAt = nowMs();
    let abortReactionMs: number | undefined;
    if (decision.worker === 'branch') {
      const inFlight = busy.find(([start, end]) => start <= decision.decidedAt && decision.decidedAt < end);
      abortReactionMs = trunkStoppedAt - (inFlight ? inFlight[1] : decision.decidedAt);
    }
    return {
      decision,
      segmentsRan,
      segmentsAfterAnswer: segmentStarts.filter((t) => t > decision.decidedAt).length,
      trunkStoppedAt,
      abortReactionMs,
    };
  };

  let feature = input;
  for (let segment = 0; segment < model.manifest.segments.length; segment++) {
    if (plan.includes('branch')) {
      const early = await hooks.pollEarlyExit();
      if (early) return finish(early);
    }
    segmentStarts.push(nowMs());
    const input = feature;
    feature = await timed(() => model.runSegment(segment, input));
    segmentsRan.push(segment);

    const exitIndex = model.exitAfterSegment(segment);
    if (exitIndex === undefined) continue;
    const placement: Placement = exitIndex === finalExit ? 'trunk' : plan[exitIndex];
    if (placement === 'branch') {
      // A branch head may have decided while this segment ran: stop before paying for a hand-off.
      const early = await hooks.pollEarlyExit();
      if (early) return finish(early);
      await hooks.handOff(exitIndex, feature);
    } else if (placement === 'trunk') {
      const head = feature;
      const probabilities = await timed(() => model.runExit(exitIndex, head));
      const decidedAt = nowMs();
      if (exitIndex === finalExit || isConfident(probabilities, thresholds[exitIndex])) {
        const mine: ExitDecision = {
          exitIndex,
          probabilities,
          confidence: maxProbability(probabilities),
          worker: 'trunk',
          decidedAt,
        };
        // The answer is the first decision in time: a branch head may have decided meanwhile.
        const early = plan.includes('branch') ? await hooks.pollEarlyExit() : undefined;
        return finish(early && early.decidedAt < decidedAt ? early : mine);
      }
    }
  }
  throw new Error(`${model.manifest.name}: the final exit does not follow the last segment`);
}
