import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExitRecords,
  buildCalibrationFile,
  calibrationTables,
  chooseThresholds,
  confidentMatrix,
  evaluateThresholds,
  fitLinear,
  packBits,
  packFloat32,
  recordsFromCalibration,
  statisticsFromCalibration,
  transferModelFrom,
  unpackBits,
  unpackFloat32,
} from '@outlet/planner';

const close = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} != ${expected}`);

// Ten samples, one early exit (after segment 0) and the final exit (after segment 1).
// The final exit is right on all but sample 9. Exit 0's confidence falls with the sample index;
// it is wrong on samples 4, 6, 7, 8, 9. (Confidences are float32, as the heads give them: 0.9 as
// float32 is below 0.9, so the values sit off the grid.)
const records = (): ExitRecords => ({
  confidence: [
    Float32Array.from([0.99, 0.98, 0.97, 0.91, 0.81, 0.71, 0.61, 0.56, 0.51, 0.41]),
    Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
  ],
  correct: [Uint8Array.from([1, 1, 1, 1, 0, 1, 0, 0, 0, 0]), Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])],
});
const grid = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1];

test('evaluateThresholds: the first confident exit answers; cost = segments run', () => {
  const ev = evaluateThresholds(records(), [0.9, 0], [0, 1]);
  assert.deepEqual(ev.exitCounts, [4, 6]);
  assert.equal(ev.correct, 9);
  close(ev.accuracy, 90);
  close(ev.earlyShare, 0.4);
  close(ev.expectedCost, (4 * 1 + 6 * 2) / 10);
  assert.deepEqual(ev.exitAccuracy, [100, (100 * 5) / 6]);
});

test('chooseThresholds: no loss allowed keeps exit 0 at 0.9; a 10-point budget goes down to 0.7', () => {
  const strict = chooseThresholds(records(), [0, 1], { maxLossPoints: 0, grid });
  close(strict.finalAloneAccuracy, 90);
  assert.deepEqual(strict.thresholds, [0.9, 0]);
  close(strict.evaluation!.expectedCost, 1.6);
  const loose = chooseThresholds(records(), [0, 1], { maxLossPoints: 10, grid });
  assert.deepEqual(loose.thresholds, [0.7, 0]);
  assert.equal(loose.evaluation!.correct, 8);
  close(loose.evaluation!.expectedCost, 1.4);
  assert.equal(loose.search, 'exhaustive');
  assert.equal(loose.vectorsEvaluated, grid.length);
});

test('chooseThresholds with two early exits: coordinate descent reaches the exhaustive choice here', () => {
  // Exit 1 (after segment 1) is right wherever the final exit is, and confident on samples 4..7.
  const r = records();
  const three: ExitRecords = {
    confidence: [r.confidence[0], Float32Array.from([0.45, 0.45, 0.45, 0.45, 0.99, 0.99, 0.99, 0.99, 0.45, 0.45]), r.confidence[1]],
    correct: [r.correct[0], r.correct[1], r.correct[1]],
  };
  const a = chooseThresholds(three, [0, 1, 2], { maxLossPoints: 0, grid });
  const b = chooseThresholds(three, [0, 1, 2], { maxLossPoints: 0, grid, exhaustiveLimit: 0 });
  assert.equal(b.search, 'coordinate-descent');
  assert.deepEqual(a.thresholds, [0.9, 0.95, 0]);
  assert.deepEqual(b.thresholds, a.thresholds);
  // 4 leave at exit 0, 4 at exit 1, 2 at the final exit: (4*1 + 4*2 + 2*3) / 10.
  close(a.evaluation!.expectedCost, 1.8);
});

test('calibration tables: exit probability is conditional on reaching the exit, leaver accuracy on leaving', () => {
  const r = records();
  const three: ExitRecords = {
    confidence: [r.confidence[0], Float32Array.from([0.45, 0.45, 0.45, 0.45, 0.99, 0.99, 0.99, 0.99, 0.45, 0.45]), r.confidence[1]],
    correct: [r.correct[0], Uint8Array.from([1, 1, 1, 1, 1, 1, 0, 1, 1, 0]), r.correct[1]],
  };
  const tables = calibrationTables(three, [0, 1, 2], [0.9, 0.95, 0], [0.5, 0.95]);
  assert.equal(tables.length, 2);
  assert.equal(tables[0].reach, 10);
  assert.deepEqual(tables[0].rows[1], { threshold: 0.95, confident_share: 0.3, confident_accuracy: 100, exit_probability: 0.3, leaver_accuracy: 100 });
  assert.equal(tables[1].reach, 6); // samples 4..9 pass exit 0 at 0.9
  assert.deepEqual(tables[1].rows[1], { threshold: 0.95, confident_share: 0.4, confident_accuracy: 75, exit_probability: 0.666667, leaver_accuracy: 75 });
});

test('bits and float32 pack to base64 and back', () => {
  const bits = [1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1];
  assert.deepEqual(Array.from(unpackBits(packBits(bits), bits.length)), bits);
  const f = Float32Array.from([0.1, 0.99999, 1, 0]);
  assert.deepEqual(unpackFloat32(packFloat32(f), 4), f);
  assert.throws(() => unpackFloat32(packFloat32(f), 5), /holds 4 values, not 5/);
});

test('calibration file: round trip of records, stored matrix, recomputed matrix and planner statistics', () => {
  const r = records();
  const choice = chooseThresholds(r, [0, 1], { maxLossPoints: 0, grid });
  const file = buildCalibrationFile({ model: 'm', modelVersion: '1', source: 'test', records: r, afterSegment: [0, 1], choice, thresholds: choice.thresholds!, grid, createdAt: 'x' });
  assert.deepEqual(file.thresholds, [0.9, 0]);
  assert.equal(file.result.meets_target, true);
  assert.deepEqual(file.result.exit_counts, [4, 6]);
  assert.deepEqual(file.exit_probability, [0.4]);
  const back = JSON.parse(JSON.stringify(file));
  assert.deepEqual(recordsFromCalibration(back), r);
  assert.deepEqual(confidentMatrix(back).map((row) => row[0]), [true, true, true, true, false, false, false, false, false, false]);
  assert.equal(confidentMatrix(back, [0.7, 0]).filter((row) => row[0]).length, 6);
  const stats = statisticsFromCalibration(back);
  assert.equal(stats.mode, 'empirical');
  if (stats.mode === 'empirical') assert.deepEqual(stats.patterns, [{ mask: 0, weight: 0.6 }, { mask: 1, weight: 0.4 }]);
  // Without per-sample records, the formula with the stored exit probabilities.
  const bare = { ...back, samples: { count: 0, confident: [], correct: [], confidence_f32: [] } };
  assert.deepEqual(statisticsFromCalibration(bare), { mode: 'formula', earlyExits: 1, p: [0.4] });
});

test('transfer fit: least squares recovers fixed + per-byte cost from points on a line', () => {
  const points = [1024, 4096, 65536, 1 << 20, 4 << 20].map((x) => ({ x, y: 0.3 + 2e-6 * x }));
  for (const relative of [true, false]) {
    const fit = fitLinear(points, { relative });
    assert.ok(Math.abs(fit.fixed - 0.3) < 1e-9 && Math.abs(fit.slope - 2e-6) < 1e-15, JSON.stringify(fit));
    close(fit.r2, 1);
  }
  assert.throws(() => fitLinear([{ x: 1, y: 1 }]), /at least 2 points/);
  const model = transferModelFrom({ model: { transfer: { fixed_ms: 0.3, per_byte_ms: 2e-6 }, trunk: { fixed_ms: 0.05, per_byte_ms: 1e-7 }, notify_ms: 0.1 } });
  assert.equal(model.notify_ms, 0.1);
  assert.throws(() => transferModelFrom({ transfer: { fixed_ms: 1 } }), /'transfer' must have finite fixed_ms and per_byte_ms/);
});
