import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TimelineModel,
  conditionalExitProbabilities,
  empiricalStatistics,
  expectedLatency,
  formulaStatistics,
  taskLatency,
  timeline,
} from '@outlet/planner';
import { Placement } from '@outlet/contracts';
import { twoExits } from '../support/planner-fixtures';

const close = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} != ${expected}`);

// Two segments, one early exit after segment 0, the final exit after segment 1.
const oneExit = (answerAt: TimelineModel['answerAt'] = 'decision'): TimelineModel => ({
  afterSegment: [0, 1],
  times: { segments: [10, 20], trunkHeads: [2, 3], branchHeads: [4] },
  handoffMs: [1],
  handoffTrunkMs: [0.5],
  abortMs: 0.2,
  answerAt,
});

test('timeline: a trunk head adds its time inline; the final exit follows', () => {
  const line = timeline(oneExit(), ['trunk']);
  assert.deepEqual(line.segments, [{ startMs: 0, endMs: 10 }, { startMs: 12, endMs: 32 }]);
  close(line.exits[0].answerMs, 12);
  close(line.finalMs, 35);
});

test('timeline: a branch head costs the trunk only its hand-off; its answer comes at its end + abort', () => {
  const line = timeline(oneExit(), ['branch']);
  assert.equal(line.exits[0].readyMs, 11);
  assert.equal(line.exits[0].startMs, 11);
  assert.equal(line.exits[0].endMs, 15);
  close(line.exits[0].answerMs, 15.2);
  close(line.finalMs, 33.5);
  assert.deepEqual(taskLatency(line, [true]), { ms: 15.2, exit: 0 });
  assert.deepEqual(taskLatency(line, [false]), { ms: 33.5, exit: 1 });
});

test('timeline: a skipped head costs nothing and never answers', () => {
  const line = timeline(oneExit(), ['skip']);
  assert.equal(line.exits[0].answerMs, Infinity);
  close(line.finalMs, 33);
});

test('expected latency, 1 early exit, p = 0.6: hand-computed', () => {
  const stats = formulaStatistics([0.6]);
  close(expectedLatency(oneExit(), ['trunk'], stats).expectedMs, 0.6 * 12 + 0.4 * 35);
  close(expectedLatency(oneExit(), ['branch'], stats).expectedMs, 0.6 * 15.2 + 0.4 * 33.5);
  close(expectedLatency(oneExit(), ['skip'], stats).expectedMs, 33);
  const shares = expectedLatency(oneExit(), ['trunk'], stats).answerShare;
  close(shares[0], 0.6);
  close(shares[1], 0.4);
});

test('boundary timing: the trunk sees a branch decision only at its next segment start or its own final answer', () => {
  // Segment 1 starts at 10.5, before the branch decides (15.2): the trunk only learns at the end.
  const line = timeline(oneExit('boundary'), ['branch']);
  close(line.exits[0].answerMs, 33.5);
  // With three segments, the decision (15.2) is seen when segment 2 starts.
  const m: TimelineModel = {
    afterSegment: [0, 2],
    times: { segments: [10, 8, 20], trunkHeads: [2, 3], branchHeads: [4] },
    handoffMs: [1],
    handoffTrunkMs: [0.5],
    abortMs: 0.2,
    answerAt: 'boundary',
  };
  close(timeline(m, ['branch']).exits[0].answerMs, 18.5);
  close(timeline({ ...m, answerAt: 'decision' }, ['branch']).exits[0].answerMs, 15.2);
});


test('two branch heads share one branch worker: the second waits for the first', () => {
  const m = twoExits([3, 3]);
  m.times.segments = [10, 1, 10];
  const line = timeline(m, ['branch', 'branch']);
  // Head 0: ready 11, runs 11..14. Head 1: feature ready at 10.5+1+1 = 12.5, waits until 14.
  assert.equal(line.exits[1].readyMs, 12.5);
  assert.equal(line.exits[1].startMs, 14);
  assert.equal(line.exits[1].endMs, 17);
});

test('the race: a slow branch head loses to later trunk work, and the earliest decision answers', () => {
  const m = twoExits([20, 3]); // head 0 on the branch ends at 31; head 1 inline decides at 25.5
  const line = timeline(m, ['branch', 'trunk']);
  close(line.exits[0].answerMs, 31);
  close(line.exits[1].answerMs, 25.5);
  close(line.finalMs, 36.5);
  assert.deepEqual(taskLatency(line, [true, true]), { ms: 25.5, exit: 1 });
  assert.deepEqual(taskLatency(line, [true, false]), { ms: 31, exit: 0 });
  // Formula: ordered by answer time, exit 1 comes first.
  const p = [0.5, 0.25];
  const expected = 0.25 * 25.5 + 0.75 * 0.5 * 31 + 0.75 * 0.5 * 36.5;
  close(expectedLatency(m, ['branch', 'trunk'], formulaStatistics(p)).expectedMs, expected);
});

test('a branch head that would decide after the final exit never answers', () => {
  const m = twoExits([3, 12]);
  const line = timeline(m, ['branch', 'branch']);
  assert.ok(line.exits[1].answerMs > line.finalMs);
  const r = expectedLatency(m, ['branch', 'branch'], formulaStatistics([0.5, 0.5]));
  close(r.expectedMs, 0.5 * 14 + 0.5 * 32);
  close(r.answerShare[1], 0);
});

/** An 8-sample matrix in which exits are exactly independent with p = 0.5 and 0.25. */
const independentMatrix = (): boolean[][] => [
  [true, true],
  [true, false], [true, false], [true, false],
  [false, true],
  [false, false], [false, false], [false, false],
];

const allPlans = (n: number): Placement[][] => {
  if (n === 0) return [[]];
  return allPlans(n - 1).flatMap((p) => (['branch', 'trunk', 'skip'] as Placement[]).map((x) => [...p, x]));
};

test('formula and empirical modes agree when exits are independent (every plan, including races)', () => {
  const matrix = independentMatrix();
  assert.deepEqual(conditionalExitProbabilities(matrix, 2), [0.5, 0.25]);
  const empirical = empiricalStatistics(matrix, 2);
  const formula = formulaStatistics([0.5, 0.25]);
  for (const branchHeads of [[3, 3], [3, 12], [20, 3]]) {
    for (const plan of allPlans(2)) {
      const m = twoExits(branchHeads);
      const a = expectedLatency(m, plan, empirical);
      const b = expectedLatency(m, plan, formula);
      close(a.expectedMs, b.expectedMs, `${plan} ${branchHeads}`);
      a.answerShare.forEach((s, i) => close(s, b.answerShare[i], `share ${i} ${plan}`));
    }
  }
});

test('empirical mode equals the mean of per-sample timelines', () => {
  const matrix: boolean[][] = [[true, true], [false, true], [false, true], [false, false], [true, false]];
  const m = twoExits([20, 3]);
  for (const plan of allPlans(2)) {
    const line = timeline(m, plan);
    const mean = matrix.reduce((a, row) => a + taskLatency(line, row).ms, 0) / matrix.length;
    close(expectedLatency(m, plan, empiricalStatistics(matrix, 2)).expectedMs, mean, String(plan));
  }
});

test('correlated exits: the formula misjudges a plan that skips an exit, the empirical mode does not', () => {
  // Exit 1 is confident exactly when exit 0 is: conditional p_1 = 0, yet skipping exit 0 lets exit 1 answer half the time.
  const matrix = [[true, true], [false, false]];
  assert.deepEqual(conditionalExitProbabilities(matrix, 2), [0.5, 0]);
  const m = twoExits();
  const empirical = expectedLatency(m, ['skip', 'trunk'], empiricalStatistics(matrix, 2)).expectedMs;
  const formula = expectedLatency(m, ['skip', 'trunk'], formulaStatistics([0.5, 0])).expectedMs;
  close(empirical, 0.5 * 25 + 0.5 * 36);
  close(formula, 36);
});

test('a malformed model or plan is refused with the reason', () => {
  assert.throws(() => timeline(oneExit(), ['trunk', 'trunk']), /plan has 2 placements; the model has 1 early exits/);
  assert.throws(() => timeline(oneExit(), ['gpu' as Placement]), /unknown placement 'gpu'/);
  assert.throws(() => formulaStatistics([1.5]), /p\[0\] must be from 0 to 1/);
  assert.throws(() => expectedLatency(oneExit(), ['trunk'], formulaStatistics([0.5, 0.5])), /cover 2 early exits; the model has 1/);
});
