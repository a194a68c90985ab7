import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditRecord, EXIT_OFF, LiveThresholds, agreesWithFinal } from '@outlet/contracts';
import { seededRandom } from '@outlet/onnx-cost';
import { TunerOptions, cheapestFeasible, defaultTunerOptions, tune, wilsonLowerBound, wilsonUpperBound, windowStats } from '@outlet/adaptation';

const close = (actual: number, expected: number, tolerance: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} != ${expected} (±${tolerance})`);

// A model with two early exits and the final one; a task answered at exit i costs exitCostMs[i].
const exitCostMs = [10, 20, 30];
const options = (partial: Partial<TunerOptions> = {}) => defaultTunerOptions({ exitCostMs, calibrated: [0.9, 0.9, 0], ...partial });

/** A record from per-exit [confidence, label] pairs (the last pair is the final exit's). */
function record(at: number, exits: [number, number][], answerExit = exits.length - 1): AuditRecord {
  return { taskId: `t${at}`, nodeId: 'n1', at, thresholdVersion: 1, answerExit, exits: exits.map(([confidence, label]) => ({ confidence, label })) };
}

function live(thresholds: number[], partial: Partial<LiveThresholds> = {}): LiveThresholds {
  return { version: 1, thresholds, auditRate: 0.05, updatedAt: 0, windowSince: 0, reason: 'calibration', ...partial };
}

/**
 * Synthetic audits. Clean: exit 0's confidence is mostly near 1 and it disagrees with the final
 * exit with a chance that grows as its confidence falls (its threshold spends the budget); exit 1
 * agrees at confidence >= 0.75 and is a coin toss below (its best threshold is 0.75). Drift:
 * besides, 30 % of the inputs make both early heads confidently wrong (0.5..0.95), as noise does.
 */
function synthetic(rand: () => number, at: number, drift: boolean): AuditRecord {
  const finalLabel = Math.floor(rand() * 10);
  const wrong = (finalLabel + 1) % 10;
  const corrupted = drift && rand() < 0.3;
  const head = (confidence: number, disagreement: number): [number, number] => [confidence, rand() < disagreement ? wrong : finalLabel];
  if (corrupted) return record(at, [head(0.5 + 0.45 * rand(), 1), head(0.5 + 0.45 * rand(), 1), [0.99, finalLabel]]);
  const c0 = 1 - 0.6 * rand() ** 2;
  const c1 = 1 - 0.5 * rand() ** 3;
  return record(at, [head(c0, 0.15 * (1 - c0)), head(c1, c1 < 0.75 ? 0.5 : 0), [0.99, finalLabel]]);
}

/** `count` synthetic records, newest first, the newest at `lastAt`, 10 ms apart. */
function stream(seed: number, count: number, drift: boolean, lastAt = count * 10): AuditRecord[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, k) => synthetic(rand, lastAt - 10 * (count - 1 - k), drift)).reverse();
}

/** The exit that answers a record at some thresholds. */
function answerAt(r: AuditRecord, thresholds: readonly number[]): number {
  const early = r.exits.length - 1;
  for (let i = 0; i < early; i++) if (r.exits[i].confidence >= thresholds[i]) return i;
  return early;
}

test('wilson bounds: known values; n = 0 knows nothing', () => {
  close(wilsonLowerBound(95, 100, 1.96), 0.8882, 1e-4, 'lower');
  close(wilsonUpperBound(95, 100, 1.96), 0.9785, 1e-4, 'upper');
  close(wilsonLowerBound(0, 10, 1.96), 0, 1e-12, 'lower of none');
  close(wilsonUpperBound(10, 10, 1.96), 1, 1e-12, 'upper of all');
  assert.equal(wilsonLowerBound(0, 0, 1.645), 0);
  assert.equal(wilsonUpperBound(0, 0, 1.645), 1);
  // 30 of 30 is far from proof of 99 %: the one-sided bound at z 1.645 is about 0.917.
  close(wilsonLowerBound(30, 30, 1.645), 30 / (30 + 1.645 ** 2), 1e-12, 'all of 30');
});

test('windowStats: a hand-made 4-record window', () => {
  const records = [
    record(4, [[0.9, 1], [0.5, 2], [0.99, 1]]), // exit 0 answers, agrees
    record(3, [[0.5, 3], [0.75, 4], [0.99, 5]]), // exit 1 answers, disagrees
    record(2, [[0.85, 7], [0.9, 6], [0.99, 6]]), // exit 0 answers, disagrees
    record(1, [[0.2, 9], [0.3, 8], [0.99, 9]]), // the final exit answers
  ];
  const stats = windowStats(records, [0.8, 0.7, 0], exitCostMs, 1.645);
  assert.equal(stats.records, 4);
  assert.equal(stats.agreement, 0.5);
  close(stats.lowerBound, wilsonLowerBound(2, 4, 1.645), 1e-12, 'lower bound');
  close(stats.expectedMs, (10 + 20 + 10 + 30) / 4, 1e-12, 'expected ms');
  assert.deepEqual(stats.exitShares, [0.5, 0.25, 0.25]);

  const off = windowStats(records, [EXIT_OFF, EXIT_OFF], exitCostMs, 1.645);
  assert.deepEqual([off.agreement, off.lowerBound, off.expectedMs, off.exitShares], [1, 1, 30, [0, 0, 1]]);
  const empty = windowStats([], [0.8, 0.7], exitCostMs, 1.645);
  assert.deepEqual([empty.records, empty.agreement, empty.lowerBound, empty.expectedMs], [0, 1, 0, 0]);
});

test('defaultTunerOptions: documented defaults; the grid gains EXIT_OFF', () => {
  const o = options({ grid: [0.9, 0.5, 0.9] });
  assert.deepEqual(o.grid, [0.5, 0.9, EXIT_OFF]);
  assert.deepEqual(
    [o.budget, o.z, o.longWindow, o.recentWindow, o.dropMargin, o.minRecordsToLower, o.minRecordsToRaise, o.changeWindow, o.lowerStep, o.lowerEveryRecords, o.baseAuditRate, o.maxAuditRate],
    [0.01, 1.645, 2000, 50, 0.02, 200, 100, 200, 0.05, 50, 0.05, 0.5],
  );
  assert.throws(() => defaultTunerOptions({ exitCostMs, calibrated: [0.9, 0] }), /calibrated/);
});

test('EXIT_OFF is always feasible: early exits that always disagree are switched off', () => {
  // Both early heads sure (probability 1) and always wrong: any threshold <= 1 lets them answer.
  const records = Array.from({ length: 500 }, (_, k) => record(500 - k, [[1, 1], [1, 2], [0.99, 3]]));
  for (const window of [records, records.slice(0, 5), []]) {
    const best = cheapestFeasible(window, options());
    assert.deepEqual(best.thresholds, [EXIT_OFF, EXIT_OFF]);
    assert.deepEqual([best.window.agreement, best.window.lowerBound], [1, 1]);
  }
  const d = tune(records, live([0.9, 0.9, 0]), options(), 1000);
  assert.equal(d.kind, 'raise');
  assert.deepEqual(d.thresholds, [EXIT_OFF, EXIT_OFF, 0]);
  assert.deepEqual(d.exitProbabilities, [0, 0]);
  assert.equal(d.auditRate, 0.5);
});

test('a small lucky window lowers no threshold', () => {
  // 30 records on which every early exit is confident and agrees, thresholds raised to EXIT_OFF.
  const records = Array.from({ length: 30 }, (_, k) => record(1000 - k, [[0.999, 4], [0.999, 4], [0.999, 4]]));
  const raised = live([EXIT_OFF, EXIT_OFF, 0], { auditRate: 0.5 });
  const d = tune(records, raised, options(), 1000);
  assert.equal(d.kind, 'keep');
  assert.deepEqual(d.thresholds, [EXIT_OFF, EXIT_OFF, 0]);
  assert.equal(d.auditRate, 0.5, 'still recovering: audit more');
  // Without the record-count gates the Wilson bound alone holds them: 30 of 30 is not proof of 99 %.
  const ungated = tune(records, raised, options({ minRecordsToLower: 0, lowerEveryRecords: 0 }), 1000);
  assert.equal(ungated.kind, 'keep');
  assert.deepEqual(ungated.thresholds, [EXIT_OFF, EXIT_OFF, 0]);
});

test('it reacts to a drop: raise fast, restart the window, audit at the bound', () => {
  const rand = seededRandom(7);
  const clean = stream(11, 500, false);
  // The 50 newest: exit 0 confident, and wrong 30 % of the time.
  const drifted = Array.from({ length: 50 }, (_, k) => {
    const label = Math.floor(rand() * 10);
    return record(10_000 - k, [[0.97, rand() < 0.3 ? (label + 1) % 10 : label], [0.97, label], [0.99, label]]);
  });
  const before = [0.7, 0.7, 0];
  const d = tune([...drifted, ...clean], live(before, { updatedAt: 100 }), options(), 10_000);
  assert.equal(d.kind, 'raise', d.reason);
  d.thresholds.slice(0, 2).forEach((t, i) => assert.ok(t >= before[i], `exit ${i}: ${t} < ${before[i]}`));
  assert.equal(d.windowSince, 10_000 - 49, 'the window starts at the oldest drifted record');
  assert.equal(d.window.records, 50);
  assert.equal(d.auditRate, 0.5);
  // As far as the records show: exit 0 (wrong at 0.97) above all its answers (off: nothing in them
  // tells 0.98 from off), exit 1 (right at 0.97) still answering them all (ties: the higher threshold).
  assert.deepEqual(d.thresholds, [EXIT_OFF, 0.97, 0]);
  assert.equal(d.live.version, 2);
  assert.equal(d.live.updatedAt, 10_000);
  assert.match(d.reason, /agreement fell/);
  // Fewer than recentWindow records prove no drop, however they look (the doubt audits more instead).
  const few = tune(drifted.slice(0, 49), live(before, { updatedAt: 100 }), options(), 10_000);
  assert.deepEqual([few.kind, few.auditRate], ['keep', 0.5], few.reason);
});

test('a slow violation over the whole window raises, keeping the window', () => {
  // 2000 records: exit 0 always answers at 0.5; 3 % of the older ones disagree, none of the newest 40.
  const records = Array.from({ length: 2000 }, (_, k) => record(2000 - k, [[0.6, k >= 40 && k % 33 === 0 ? 1 : 0], [0.6, 0], [0.99, 0]]));
  const d = tune(records, live([0.5, 0.5, 0], { windowSince: 1 }), options(), 2000);
  assert.equal(d.kind, 'raise', d.reason);
  assert.match(d.reason, /below budget/);
  assert.equal(d.windowSince, 1);
  // Exit 0 closes; exit 1, which always agrees, answers everything (ties go to its higher threshold).
  assert.deepEqual(d.thresholds, [EXIT_OFF, 0.6, 0]);
  assert.deepEqual(d.window.exitShares, [0, 1, 0]);
  assert.ok(d.window.lowerBound >= 0.99);
});

test('lowering is slow: an exit that is off reopens at 1, then moves at most lowerStep per change', () => {
  const o = options();
  const clean = stream(5, 1500, false);
  let state = live([EXIT_OFF, EXIT_OFF, 0], { auditRate: 0.5 });
  const first = tune(clean.slice(50), state, o, 14_500);
  assert.equal(first.kind, 'lower', first.reason);
  assert.deepEqual(first.thresholds, [1, 1, 0]);
  state = first.live;
  assert.equal(tune(clean.slice(50), state, o, 14_500).kind, 'keep', 'no new records since the change');
  const second = tune(clean, state, o, 15_000);
  assert.equal(second.kind, 'lower', second.reason);
  second.thresholds.slice(0, 2).forEach((t, i) => assert.ok(t >= state.thresholds[i] - o.lowerStep - 1e-9 && t < state.thresholds[i], `exit ${i}: ${t}`));
  assert.ok(second.window.lowerBound >= 1 - o.budget);
  assert.equal(second.auditRate, 0.5, 'still above the calibrated 0.9');
});

test('a drift that has passed: the window restarts at the newest records when, at the offline thresholds, they agree confidently more', () => {
  // 1000 drift audits where a third of the inputs make both early heads wrong and sure (1), then
  // clean ones (newest first): 250 of them at first, 500 later.
  const clean = stream(11, 500, false, 30_000);
  const drift = stream(12, 1000, true, 20_000).map((r, k) =>
    k % 3 === 0 ? record(r.at, [[1, (r.exits[2].label + 1) % 10], [1, (r.exits[2].label + 1) % 10], [0.99, r.exits[2].label]]) : r,
  );
  const first = [...clean.slice(250), ...drift];
  const raised = live([EXIT_OFF, EXIT_OFF, 0], { updatedAt: 0, windowSince: 0, auditRate: 0.5 });
  assert.ok(cheapestFeasible(first, options()).thresholds.every((t) => t > 1), 'precondition: the whole window keeps every early exit off');
  const d = tune(first, raised, options(), 40_000);
  assert.equal(d.kind, 'keep', d.reason);
  assert.match(d.reason, /a drift has passed: at the offline thresholds 0.9,0.9 the newest 200 audits/);
  assert.equal(d.windowSince, clean[250 + 199].at, 'the window restarts at the newest 200');
  assert.equal(d.live.windowSince, d.windowSince, 'and is stored');
  assert.equal(d.window.records, 200);
  assert.equal(d.auditRate, 0.5, 'learning the new data: audit at the bound');

  // Later rounds lower on the clean records alone, slowly.
  const next = tune([...clean, ...drift], d.live, options(), 40_000);
  assert.equal(next.kind, 'lower', next.reason);
  assert.equal(next.window.records, 450);
  assert.deepEqual(next.thresholds, [1, 1, 0], 'one slow step: off reopens at 1');

  // The same drift, still going on: no restart.
  const stillDrift = stream(13, 300, true, 30_000).map((r, k) =>
    k % 3 === 0 ? record(r.at, [[1, (r.exits[2].label + 1) % 10], [1, (r.exits[2].label + 1) % 10], [0.99, r.exits[2].label]]) : r,
  );
  const same = tune([...stillDrift, ...drift], raised, options(), 40_000);
  assert.doesNotMatch(same.reason, /drift has passed/);
  assert.equal(same.windowSince, 0);
});

test('audit rate: at the bound after a raise until minRecordsToLower records confirm, then the base rate', () => {
  // Early exits never confident enough to answer: no lowering can gain, the decisions are keeps.
  const quiet = (count: number) => Array.from({ length: count }, (_, k) => record(1000 + count - k, [[0.3, 1], [0.3, 1], [0.99, 1]]));
  const raised = live([0.8, 0.8, 0], { auditRate: 0.5, updatedAt: 1000 });
  const soon = tune(quiet(150), raised, options(), 2000);
  assert.deepEqual([soon.kind, soon.auditRate], ['keep', 0.5]);
  const later = tune(quiet(250), raised, options(), 2000);
  assert.deepEqual([later.kind, later.auditRate], ['keep', 0.05]);
  assert.equal(later.live.version, raised.version, 'an audit rate change alone is no new thresholds version');
  // Above the offline thresholds, at the bound while the window fills, the base rate once it is full.
  const above = live([0.95, 0.95, 0], { auditRate: 0.5, updatedAt: 0 });
  assert.equal(tune(quiet(250), above, options(), 2000).auditRate, 0.5);
  assert.equal(tune(quiet(250), above, options({ longWindow: 250 }), 2000).auditRate, 0.05);
});

test('audit rate: at the bound while the newest records are in doubt, short of a drop', () => {
  // Exit 0 answers every record; `wrong` of the newest 50 disagree (none older): the window holds.
  const records = (wrong: number) => Array.from({ length: 300 }, (_, k) => record(2000 - k, [[0.95, k < 50 && k % 20 === 3 && k / 20 < wrong ? 1 : 0], [0.95, 0], [0.99, 0]]));
  const at = live([0.8, 0.8, 0], { updatedAt: 0 });
  const doubt = tune(records(2), at, options(), 2000);
  assert.deepEqual([doubt.kind, doubt.auditRate], ['keep', 0.5], doubt.reason); // 48 of 50: 96 % < 99 % − 2 %
  const fine = tune(records(1), at, options(), 2000);
  assert.deepEqual([fine.kind, fine.auditRate], ['keep', 0.05], fine.reason); // 49 of 50
});

test('the whole window raises on its point estimate, from minRecordsToRaise records on', () => {
  // Exit 0 answers every record at 0.9; 2 of every 100 disagree (98 %, under the 99 % target) but
  // never 4 among the newest 50, so only the whole window shows it.
  const records = (count: number) => Array.from({ length: count }, (_, k) => record(1000 + count - k, [[0.9, k % 50 === 7 ? 1 : 0], [0.9, 0], [0.99, 0]]));
  const at = live([0.8, 0.8, 0]);
  assert.equal(tune(records(99), at, options(), 2000).kind, 'keep', 'too few records');
  const d = tune(records(100), at, options(), 2000);
  assert.equal(d.kind, 'raise', d.reason);
  assert.match(d.reason, /agreement below budget: 100 audits agree 98.0%/);
  // Raised to what the window proves (Wilson lower bound): 100 of 100 is not proof of 99 %, so only
  // every early exit off; the slow lowering reopens exit 1 once enough records show it right.
  assert.deepEqual(d.thresholds, [EXIT_OFF, EXIT_OFF, 0]);
  const more = tune(records(400), at, options(), 2000);
  assert.equal(more.kind, 'raise', more.reason);
  // On 400: exit 0 closes, exit 1 (always right, at 0.9) answers them all (ties: the higher threshold).
  assert.deepEqual(more.thresholds, [EXIT_OFF, 0.9, 0]);
});

test('exit probabilities: per early exit, the share of records reaching it that leave there', () => {
  const records = [
    record(4, [[0.9, 1], [0.5, 1], [0.99, 1]]),
    record(3, [[0.5, 5], [0.75, 5], [0.99, 5]]),
    record(2, [[0.85, 6], [0.9, 6], [0.99, 6]]),
    record(1, [[0.2, 9], [0.3, 9], [0.99, 9]]),
  ];
  // Measured from minRecordsToLower records on (default 200); before, see below.
  const d = tune(records, live([0.8, 0.7, 0]), options({ minRecordsToLower: 4 }), 10);
  assert.equal(d.kind, 'keep', d.reason);
  assert.deepEqual(d.exitProbabilities, [0.5, 0.5]);
  assert.equal(d.auditRate, 0.05, 'at the calibration: the base rate');
  // None reaches exit 1: its previous value, not NaN; an exit that is off never answers.
  const open = tune(records, live([0, 0.7, 0], { exitProbabilities: [0.6, 0.3] }), options({ minRecordsToLower: 4 }), 10);
  assert.deepEqual(open.exitProbabilities, [1, 0.3]);
  // Too few records to measure: the live values stand, 0 where an exit is off.
  assert.deepEqual(tune(records, live([0.8, 0.7, 0], { exitProbabilities: [0.6, 0.3] }), options(), 10).exitProbabilities, [0.6, 0.3]);
  assert.equal(tune(records, live([0.8, 0.7, 0]), options(), 10).exitProbabilities, undefined, 'none live, none calibrated');
  const none = tune([], live([EXIT_OFF, 0.7, 0]), options({ calibratedExitProbabilities: [0.6, 0.4] }), 10);
  assert.deepEqual(none.exitProbabilities, [0, 0.4]);
  assert.equal(none.auditRate, 0.5, 'exit 0 above its calibration: recovering');
});

test('it stays within the budget over clean → drift → clean and returns near the clean optimum', () => {
  const o = options();
  // Offline calibration: the cheapest feasible thresholds on an independent clean sample.
  const calibrated = [...cheapestFeasible(stream(1, 2000, false), o).thresholds, 0];
  const tuner = { ...o, calibrated };
  let thresholds = live(calibrated);
  const phases: [boolean, number][] = [[false, 2500], [true, 2500], [false, 4000]];
  const rand = seededRandom(2);
  const audits: AuditRecord[] = []; // oldest first
  const tally = phases.map(() => ({ answered: 0, agreed: 0 }));
  const kinds: string[] = [];
  let at = 0;
  phases.forEach(([drift, count], phase) => {
    for (let k = 0; k < count; k++) {
      at += 10;
      // Every record is a task answered at the thresholds in force when it arrived.
      const r = synthetic(rand, at, drift);
      r.answerExit = answerAt(r, thresholds.thresholds);
      audits.push(r);
      if (k >= o.recentWindow + 60) {
        tally[phase].answered++;
        if (agreesWithFinal(r)) tally[phase].agreed++;
      }
      if (audits.length % 25 === 0) {
        const d = tune(audits.slice(-4000).reverse(), thresholds, tuner, at);
        if (d.kind !== 'keep') kinds.push(`${phase}:${d.kind}:${d.thresholds.slice(0, 2).join(',')}`);
        thresholds = d.live;
      }
    }
  });
  tally.forEach(({ answered, agreed }, phase) => {
    assert.ok(agreed / answered >= 1 - o.budget - 0.003, `phase ${phase}: agreement ${agreed / answered} (${kinds.join(' ')})`);
  });
  assert.ok(kinds.some((k) => k.startsWith('1:raise')), `the drift raised the thresholds: ${kinds.join(' ')}`);
  // Back near the clean optimum of the final window.
  const optimum = cheapestFeasible(audits.slice(-o.longWindow).reverse(), tuner).thresholds;
  const gridStep = (t: number) => {
    const k = o.grid.findIndex((g) => g >= t - 1e-9);
    return Math.max(o.grid[k + 1] - o.grid[k] || 0, k > 0 ? o.grid[k] - o.grid[k - 1] : 0);
  };
  optimum.forEach((t, i) => {
    const final = thresholds.thresholds[i];
    const slack = Math.max(o.lowerStep, gridStep(t)) + 1e-9;
    assert.ok(Math.abs(final - t) <= slack, `exit ${i}: ${final} vs optimum ${t} (${kinds.join(' ')})`);
  });
  assert.equal(thresholds.auditRate, o.baseAuditRate);
});
