import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  StageTimesMs,
  TimelineModel,
  bucketBounds,
  buildPlanTable,
  expectedLatency,
  featureBytes,
  formulaStatistics,
  empiricalStatistics,
  planModel,
  presetPlan,
  searchPlan,
  utilizationCentres,
} from '@outlet/planner';
import { planForUtilization, validateManifest } from '@outlet/model-package';
import { Placement } from '@outlet/contracts';
import { twoExits } from '../support/planner-fixtures';

const close = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} != ${expected}`);


test('exhaustive search picks the hand-computed optimum, a mixed plan, and reports the presets', () => {
  // Hand-computed (p = 0.5, 0.5): branch,trunk 22.5; branch,skip 22.75; parallel 23 (head 1 on the
  // branch would decide after the final exit); serial 25.25; full 31.
  const r = searchPlan(twoExits([3, 12]), formulaStatistics([0.5, 0.5]));
  assert.deepEqual(r.plan, ['branch', 'trunk']);
  close(r.expectedMs, 22.5);
  close(r.presets.serial, 25.25);
  close(r.presets.parallel, 23);
  close(r.presets.full, 31);
  assert.equal(r.search, 'exhaustive');
  assert.equal(r.plansEvaluated, 9);
  assert.deepEqual(r.inputs.branchHeadMs, [3, 12]);
  close(r.answerShare.reduce((a, b) => a + b, 0), 1);
});

test('with a fast branch worker the parallel preset wins (hand-computed 21.125)', () => {
  const r = searchPlan(twoExits([3, 3]), formulaStatistics([0.5, 0.5]));
  assert.deepEqual(r.plan, ['branch', 'branch']);
  close(r.expectedMs, 21.125);
});

test('when no exit ever fires, the original network (all skip) is best; ties go to less work', () => {
  const r = searchPlan(twoExits([3, 3]), formulaStatistics([0, 0]));
  assert.deepEqual(r.plan, ['skip', 'skip']);
  close(r.expectedMs, 31);
});

test('the search result is the minimum over every plan', () => {
  const stats = empiricalStatistics([[true, false], [true, true], [false, true], [false, false], [false, false]], 2);
  for (const heads of [[1, 1], [3, 12], [20, 3], [8, 8]]) {
    const m = twoExits(heads);
    const r = searchPlan(m, stats);
    const plans: Placement[][] = [];
    for (const a of ['branch', 'trunk', 'skip'] as Placement[]) for (const b of ['branch', 'trunk', 'skip'] as Placement[]) plans.push([a, b]);
    const min = Math.min(...plans.map((p) => expectedLatency(m, p, stats).expectedMs));
    close(r.expectedMs, min, String(heads));
  }
});

test('local search (beyond the exhaustive limit) finds the same optimum here and is never worse than a preset', () => {
  const stats = formulaStatistics([0.5, 0.5]);
  const exhaustive = searchPlan(twoExits([3, 12]), stats);
  const local = searchPlan(twoExits([3, 12]), stats, { exhaustiveLimit: 0 });
  assert.equal(local.search, 'local');
  assert.deepEqual(local.plan, exhaustive.plan);
  // 12 early exits: 3^12 plans is past the default limit.
  const n = 12;
  const m: TimelineModel = {
    afterSegment: Array.from({ length: n + 1 }, (_, i) => i),
    times: {
      segments: new Array(n + 1).fill(2),
      trunkHeads: Array.from({ length: n + 1 }, (_, i) => 0.5 + (i % 3)),
      branchHeads: Array.from({ length: n }, (_, i) => 1 + (i % 4)),
    },
    handoffMs: new Array(n).fill(0.3),
    handoffTrunkMs: new Array(n).fill(0.1),
    abortMs: 0.05,
    answerAt: 'decision',
  };
  const r = searchPlan(m, formulaStatistics(Array.from({ length: n }, (_, i) => 0.05 + 0.07 * (i % 5))));
  assert.equal(r.search, 'local');
  assert.ok(r.expectedMs <= Math.min(r.presets.serial, r.presets.parallel, r.presets.full) + 1e-9);
  assert.equal(r.plan.length, n);
});

test('presets expand to one placement per early exit', () => {
  assert.deepEqual(presetPlan('serial', 2), ['trunk', 'trunk']);
  assert.deepEqual(presetPlan('parallel', 2), ['branch', 'branch']);
  assert.deepEqual(presetPlan('full', 2), ['skip', 'skip']);
});

test('utilization buckets: centres 0..1 by 0.1, bounds halfway between centres, the last reaching 1', () => {
  const centres = utilizationCentres();
  assert.equal(centres.length, 11);
  assert.equal(centres[3], 0.3);
  assert.deepEqual(bucketBounds(centres), [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 1]);
  assert.deepEqual(bucketBounds([0, 0.5, 0.8]), [0.25, 0.65, 1]);
  assert.deepEqual(bucketBounds([0.2]), [1]);
});

const manifest = () =>
  validateManifest({
    name: 'tiny',
    version: '1',
    input: { name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] },
    output: { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
    segments: [
      { file: 's1.onnx', output_shape: [-1, 8, 14, 14] },
      { file: 's2.onnx', output_shape: [-1, 16, 7, 7] },
      { file: 's3.onnx', output_shape: [-1, 32, 3, 3] },
    ],
    exits: [
      { file: 'e1.onnx', after_segment: 0, threshold: 0.85 },
      { file: 'e2.onnx', after_segment: 1, threshold: 0.7 },
      { file: 'e3.onnx', after_segment: 2, threshold: 0 },
    ],
  });

test('feature bytes: each early exit input at batch 1, FP32', () => {
  assert.deepEqual(featureBytes(manifest()), [8 * 14 * 14 * 4, 16 * 7 * 7 * 4]);
});

test('planModel: a loaded CPU moves heads from the branch to the trunk; the table maps loads to plans', () => {
  // Branch heads slow down 10x from u = 0 to u = 1.
  const stageTimes = (u: number): StageTimesMs => ({ segments: [10, 10, 10], trunkHeads: [5, 5, 1], branchHeads: [2 * (1 + 9 * u), 2 * (1 + 9 * u)] });
  const transfer = { transfer: { fixed_ms: 0.5, per_byte_ms: 0.0001 }, trunk: { fixed_ms: 0.1, per_byte_ms: 0.00001 }, notify_ms: 0.1 };
  const out = planModel({
    manifest: manifest(),
    stageTimes,
    transfer,
    exitProbabilities: [0.5, 0.5],
    utilizations: [1, 0, 0.5],
    createdAt: 'fixed',
  });
  assert.deepEqual(out.results.map((r) => r.cpuUtil), [0, 0.5, 1]);
  assert.equal(out.statistics.mode, 'formula');
  assert.deepEqual(out.results[0].result.plan, ['branch', 'branch']);
  assert.deepEqual(out.results[2].result.plan, ['trunk', 'trunk']);
  // handoffMs from the transfer model and feature bytes.
  close(out.results[0].result.inputs.handoffMs[0], 0.5 + 0.0001 * 6272);
  close(out.results[0].result.inputs.abortMs, 0.1);
  const t = out.table;
  assert.equal(t.model, 'tiny');
  assert.deepEqual(t.rows.map((r) => r.cpu_util_max), [0.25, 0.75, 1]);
  assert.deepEqual(planForUtilization(t, 0.1).plan, ['branch', 'branch']);
  assert.deepEqual(planForUtilization(t, 0.95).plan, ['trunk', 'trunk']);
  assert.ok(t.rows.every((r) => r.presets_ms && r.expected_ms <= Math.min(r.presets_ms.serial, r.presets_ms.parallel, r.presets_ms.full) + 1e-6));
  // Every row also carries the throughput plan under a backlog, never slower than a preset there.
  for (const { result, backlog } of out.results) {
    assert.equal(result.objective, 'latency');
    assert.equal(backlog.objective, 'throughput');
    assert.ok(backlog.occupancy.tasksPerS >= Math.max(...Object.values(backlog.presetsTasksPerS)) - 1e-6);
    assert.ok(backlog.occupancy.tasksPerS >= result.occupancy.tasksPerS - 1e-6);
  }
  assert.ok(t.rows.every((r) => r.backlog_plan && r.backlog_tasks_per_s !== undefined && r.tasks_per_s !== undefined && r.backlog_tasks_per_s >= r.tasks_per_s - 1e-6));
  assert.match(t.method ?? '', /answer at decision; exhaustive search; hand-off shm \(not measured: the main hand-off model used\)/);
});

test('planModel refuses to plan without exit statistics', () => {
  const stageTimes = (): StageTimesMs => ({ segments: [1, 1, 1], trunkHeads: [1, 1, 1], branchHeads: [1, 1] });
  const transfer = { transfer: { fixed_ms: 0.5, per_byte_ms: 0 }, trunk: { fixed_ms: 0.1, per_byte_ms: 0 }, notify_ms: 0 };
  assert.throws(() => planModel({ manifest: manifest(), stageTimes, transfer }), /no exit statistics for tiny: run 'outlet calibrate tiny/);
  assert.throws(() => buildPlanTable('x', []), /at least one utilization/);
});
