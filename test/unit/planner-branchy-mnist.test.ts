import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModelPackage, readPackageJson } from '@outlet/model-package';
import {
  CALIBRATION_FILE,
  CalibrationFile,
  StageTimesMs,
  evaluateThresholds,
  planModel,
  recordsFromCalibration,
  statisticsFromCalibration,
} from '@outlet/planner';

// The shipped calibration of the demo model, read as the planner reads it.
const pkg = loadModelPackage(join(__dirname, '..', '..', '..', 'models', 'branchy-mnist'));
const calibration = readPackageJson<CalibrationFile>(pkg, CALIBRATION_FILE)!;

test('branchy-mnist calibration.json matches its manifest and meets its target', () => {
  assert.ok(calibration, 'models/branchy-mnist/calibration.json is missing');
  assert.deepEqual(calibration.thresholds, pkg.manifest.exits.map((e) => e.threshold));
  assert.equal(calibration.result.meets_target, true);
  // The stored per-sample records reproduce the stored result.
  const ev = evaluateThresholds(recordsFromCalibration(calibration), calibration.thresholds, pkg.manifest.exits.map((e) => e.after_segment));
  assert.deepEqual(ev.exitCounts, calibration.result.exit_counts);
  assert.ok(Math.abs(ev.accuracy - calibration.result.accuracy) < 1e-4);
  assert.ok(ev.accuracy >= calibration.final_alone_accuracy - 0.5);
  assert.ok(ev.earlyShare >= 0.5);
});

test('planning branchy-mnist from its calibration uses the empirical mode and gives a full table', () => {
  const stats = statisticsFromCalibration(calibration);
  assert.equal(stats.mode, 'empirical');
  const stageTimes = (u: number): StageTimesMs => ({ segments: [0.2, 0.3, 0.4], trunkHeads: [0.3, 0.2, 0.2], branchHeads: [0.3 * (1 + 3 * u), 0.2 * (1 + 3 * u)] });
  const transfer = { transfer: { fixed_ms: 1, per_byte_ms: 4e-6 }, trunk: { fixed_ms: 0.3, per_byte_ms: 2e-6 }, notify_ms: 0.15 };
  const out = planModel({ manifest: pkg.manifest, stageTimes, transfer, calibration });
  assert.equal(out.table.rows.length, 11);
  for (const { result } of out.results) {
    assert.ok(Math.abs(result.answerShare.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(result.expectedMs <= Math.min(result.presets.serial, result.presets.parallel, result.presets.full) + 1e-9);
  }
  // With a 1 ms hand-off against sub-ms segments, inline heads win: the final exit beats any hand-off.
  assert.deepEqual(out.results[0].result.plan, ['trunk', 'trunk']);
});
