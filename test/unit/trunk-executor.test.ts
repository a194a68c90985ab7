import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nowMs } from '@outlet/contracts';
import { ExitDecision, TrunkSteps, runTrunk } from '@outlet/inference';

/** Probabilities that are confident (0.95) or not (0.4) at threshold 0.9. */
const SURE = [0.95, 0.05];
const UNSURE = [0.4, 0.6];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  segment: number;
  withExit: boolean;
  handOffExit?: number;
}

/**
 * A fake trunk of 3 segments with an exit after each (exits 0, 1 early; 2 final). `probabilities`
 * gives what each exit head returns when run fused; `during` runs inside a segment's call.
 */
function fakeSteps(probabilities: number[][] = [UNSURE, UNSURE, UNSURE], during: (segment: number) => Promise<void> | void = () => undefined) {
  const calls: Call[] = [];
  const steps: TrunkSteps = {
    segmentCount: 3,
    exitAfterSegment: (s) => s,
    finalExit: 2,
    async runSegment(segment, { withExit, handOffExit }) {
      calls.push({ segment, withExit, handOffExit });
      await during(segment);
      return { probabilities: withExit ? probabilities[segment] : undefined, decidedAt: nowMs() };
    },
  };
  return { steps, calls };
}

const branchDecision = (exitIndex: number, decidedAt: number): ExitDecision => ({ exitIndex, probabilities: SURE, confidence: 0.95, worker: 'branch', decidedAt });
const THRESHOLDS = [0.9, 0.9, 0];

test('runTrunk: a branch answer heard after a segment stops the trunk before the next one', async () => {
  let heard: ExitDecision | undefined;
  const { steps, calls } = fakeSteps(undefined, (segment) => {
    if (segment === 0) heard = branchDecision(0, nowMs());
  });
  const outcome = await runTrunk(steps, ['branch', 'branch'], THRESHOLDS, { earlyExit: () => heard });
  assert.deepEqual(outcome.segmentsRan, [0]);
  assert.deepEqual(calls.map((c) => c.segment), [0], 'no segment after hearing');
  assert.equal(outcome.decision, heard);
  assert.equal(outcome.handOffs, 1);
  assert.equal(outcome.segmentStarts.length, 1);
  assert.ok(outcome.trunkStoppedAt >= outcome.segmentStarts[0]);
});

test('runTrunk: never starts a segment after hearing, whenever the answer comes', async () => {
  for (const heardDuring of [0, 1]) {
    let heard: ExitDecision | undefined;
    let asked = 0;
    const { steps, calls } = fakeSteps(undefined, (segment) => {
      if (segment === heardDuring) heard = branchDecision(heardDuring, nowMs());
    });
    const outcome = await runTrunk(steps, ['branch', 'branch'], THRESHOLDS, {
      earlyExit: () => {
        asked++;
        return heard;
      },
    });
    assert.deepEqual(calls.map((c) => c.segment), Array.from({ length: heardDuring + 1 }, (_, i) => i), `heard during segment ${heardDuring}`);
    assert.equal(outcome.decision.worker, 'branch');
    assert.equal(asked, heardDuring + 2, 'asked before every segment it started and once more');
  }
});

test('runTrunk: fused calls exactly for trunk placements and the final exit; hand-offs for branch placements; skips run the segment alone', async () => {
  const cases: [('branch' | 'trunk' | 'skip')[], Call[]][] = [
    [['trunk', 'trunk'], [{ segment: 0, withExit: true }, { segment: 1, withExit: true }, { segment: 2, withExit: true }]],
    [['branch', 'branch'], [{ segment: 0, withExit: false, handOffExit: 0 }, { segment: 1, withExit: false, handOffExit: 1 }, { segment: 2, withExit: true }]],
    [['skip', 'skip'], [{ segment: 0, withExit: false }, { segment: 1, withExit: false }, { segment: 2, withExit: true }]],
    [['branch', 'trunk'], [{ segment: 0, withExit: false, handOffExit: 0 }, { segment: 1, withExit: true }, { segment: 2, withExit: true }]],
    [['trunk', 'skip'], [{ segment: 0, withExit: true }, { segment: 1, withExit: false }, { segment: 2, withExit: true }]],
  ];
  for (const [plan, expected] of cases) {
    const { steps, calls } = fakeSteps();
    const outcome = await runTrunk(steps, plan, THRESHOLDS, { earlyExit: () => undefined });
    assert.deepEqual(calls, expected.map((c) => ({ handOffExit: undefined, ...c })), `plan ${plan}`);
    assert.equal(outcome.handOffs, plan.filter((p) => p === 'branch').length, `plan ${plan}`);
    assert.deepEqual(outcome.decision, { ...outcome.decision, exitIndex: 2, worker: 'trunk' }, `plan ${plan}: the final exit answers`);
    assert.equal(outcome.abortReactionMs, undefined);
  }
});

test('runTrunk: a confident inline exit answers at once; the final exit answers whatever its confidence', async () => {
  const inline = fakeSteps([UNSURE, SURE, UNSURE]);
  const a = await runTrunk(inline.steps, ['trunk', 'trunk'], THRESHOLDS, { earlyExit: () => undefined });
  assert.deepEqual([a.decision.exitIndex, a.decision.worker, a.segmentsRan], [1, 'trunk', [0, 1]]);
  assert.equal(a.decision.confidence, 0.95);
  assert.deepEqual(Array.from(a.decision.probabilities), SURE);
  const final = fakeSteps([UNSURE, UNSURE, [0.3, 0.7]]);
  const b = await runTrunk(final.steps, ['trunk', 'trunk'], THRESHOLDS, { earlyExit: () => undefined });
  assert.deepEqual([b.decision.exitIndex, b.decision.confidence], [2, 0.7]);
});

test('runTrunk: between a branch decision and the trunk\'s own confident one, the earlier is the outcome', async () => {
  for (const branchFirst of [true, false]) {
    let branch: ExitDecision | undefined;
    const fake: TrunkSteps = {
      segmentCount: 3,
      exitAfterSegment: (s) => s,
      finalExit: 2,
      async runSegment(segment, { withExit }) {
        // The trunk's inline exit 1 decides at 1000; a branch head (exit 0) at 999 or 1001, heard only after.
        if (segment === 1) branch = branchDecision(0, branchFirst ? 999 : 1001);
        return { probabilities: withExit ? (segment === 1 ? SURE : UNSURE) : undefined, decidedAt: segment === 1 ? 1000 : nowMs() };
      },
    };
    // The branch answer is heard only after segment 1 ran (not before it started).
    let checks = 0;
    const outcome = await runTrunk(fake, ['branch', 'trunk'], THRESHOLDS, { earlyExit: () => (checks++ >= 2 ? branch : undefined) });
    assert.equal(outcome.decision.worker, branchFirst ? 'branch' : 'trunk', `branch first: ${branchFirst}`);
    assert.equal(outcome.decision.decidedAt, branchFirst ? 999 : 1000);
    assert.deepEqual(outcome.segmentsRan, [0, 1]);
  }
});

test('runTrunk: abortReactionMs is the stop\'s cost beyond the segment in flight when the branch decided', async () => {
  const SEGMENT_MS = 60;
  // Decided inside segment 1: the trunk could only stop once it ended.
  // Asserted on the fake's own record of when segment 1 ended, not on how long its sleep took.
  let heard: ExitDecision | undefined;
  let segment1EndedAt = NaN;
  const inside = fakeSteps(undefined, async (segment) => {
    if (segment === 1) {
      heard = branchDecision(0, nowMs());
      await sleep(SEGMENT_MS);
      segment1EndedAt = nowMs();
    }
  });
  const a = await runTrunk(inside.steps, ['branch', 'branch'], THRESHOLDS, { earlyExit: () => heard });
  assert.ok(a.trunkStoppedAt >= segment1EndedAt, 'the trunk stopped once the segment in flight had ended');
  assert.ok(a.abortReactionMs! >= 0 && a.abortReactionMs! <= a.trunkStoppedAt - segment1EndedAt + 1e-9, `abortReactionMs ${a.abortReactionMs} leaves out the segment in flight`);

  // Decided in the synchronous step between segments 0 and 1 (before the trunk could hear): the
  // segment it went on to start counts as in flight.
  heard = undefined;
  let gapDecision: ExitDecision | undefined;
  let gapSegment1EndedAt = NaN;
  const gap: TrunkSteps = {
    segmentCount: 3,
    exitAfterSegment: (s) => {
      if (s === 1) gapDecision = branchDecision(0, nowMs());
      return s;
    },
    finalExit: 2,
    async runSegment(segment, { withExit }) {
      if (segment === 1) await sleep(SEGMENT_MS);
      const decidedAt = nowMs();
      if (segment === 1) gapSegment1EndedAt = decidedAt;
      return { probabilities: withExit ? UNSURE : undefined, decidedAt };
    },
  };
  let checks = 0;
  const b = await runTrunk(gap, ['branch', 'branch'], THRESHOLDS, { earlyExit: () => (checks++ >= 2 ? gapDecision : undefined) });
  assert.deepEqual(b.segmentsRan, [0, 1]);
  assert.equal(b.decision, gapDecision);
  assert.ok(gapDecision!.decidedAt < gapSegment1EndedAt);
  assert.equal(b.abortReactionMs, Math.max(0, b.trunkStoppedAt - gapSegment1EndedAt), 'segment 1 was in flight: counted from its end');
});

test('runTrunk: a branch decision during the hand-off that follows a segment (before the trunk can hear) leaves the next segment in flight', async () => {
  const SEGMENT_MS = 60;
  let decision: ExitDecision | undefined;
  const steps: TrunkSteps = {
    segmentCount: 3,
    exitAfterSegment: (s) => s,
    finalExit: 2,
    async runSegment(segment, { withExit }) {
      if (segment === 1) await sleep(SEGMENT_MS);
      const decidedAt = nowMs();
      if (segment === 1) segment1EndedAt = decidedAt;
      // The hand-off after segment 0 is slow (a busy machine), and a fast branch head decides meanwhile.
      if (segment === 0) {
        await sleep(5);
        decision = branchDecision(0, nowMs());
        await sleep(5);
      }
      return { probabilities: withExit ? UNSURE : undefined, decidedAt };
    },
  };
  let segment1EndedAt = NaN;
  let checks = 0;
  const outcome = await runTrunk(steps, ['branch', 'branch'], THRESHOLDS, { earlyExit: () => (checks++ >= 2 ? decision : undefined) });
  assert.deepEqual(outcome.segmentsRan, [0, 1]);
  // Decided after segment 0 had ended (its hand-off ran on), so segment 1 was in flight: counted from its end.
  assert.equal(outcome.abortReactionMs, Math.max(0, outcome.trunkStoppedAt - segment1EndedAt), `abortReactionMs ${outcome.abortReactionMs}: segment 1 was in flight`);
});

test('runTrunk: a fused call without probabilities is an error, not a silent answer', async () => {
  const broken: TrunkSteps = { segmentCount: 1, exitAfterSegment: () => 0, finalExit: 0, runSegment: async () => ({ decidedAt: nowMs() }) };
  await assert.rejects(runTrunk(broken, [], [0], { earlyExit: () => undefined }), /returned no probabilities/);
});
