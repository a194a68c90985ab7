import { TimelineModel } from '@outlet/planner';

/** Three segments of 10 ms with an exit after each: two early exits (heads 5 ms inline) and the final one. */
export const twoExits = (branchHeads = [3, 3]): TimelineModel => ({
  afterSegment: [0, 1, 2],
  times: { segments: [10, 10, 10], trunkHeads: [5, 5, 1], branchHeads },
  handoffMs: [1, 1],
  handoffTrunkMs: [0.5, 0.5],
  abortMs: 0,
  answerAt: 'decision',
});
