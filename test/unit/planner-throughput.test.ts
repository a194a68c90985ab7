import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Placement } from '@outlet/contracts';
import {
  TimelineModel,
  buildPlanTable,
  expectedLatency,
  expectedOccupancy,
  exitOccupancy,
  formulaStatistics,
  empiricalStatistics,
  handoffCost,
  handoffMs,
  handoffTrunkMs,
  searchPlan,
  timeline,
  transferModelFrom,
  trunkStopMs,
  validateTimelineModel,
} from '@outlet/planner';
import { PlanTable, planFor, planForUtilization } from '@outlet/model-package';
import { twoExits } from '../support/planner-fixtures';

const close = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} != ${expected}`);
const PLACEMENTS: Placement[] = ['branch', 'trunk', 'skip'];
const allPlans = (): Placement[][] => PLACEMENTS.flatMap((a) => PLACEMENTS.map((b) => [a, b]));

test('occupancy on the shared fixture: a parallel trunk runs on to the end of the step in flight when it hears', () => {
  // twoExits: segments 10/10/10, inline heads 5/5, final 1, branch heads 3/3, hand-off 1 (trunk pays 0.5), notify 0.
  const line = timeline(twoExits([3, 3]), ['branch', 'branch']);
  assert.deepEqual(
    line.trunkSteps.map((s) => [s.kind, s.startMs, s.endMs]),
    [['segment', 0, 10], ['handoff', 10, 10.5], ['segment', 10.5, 20.5], ['handoff', 20.5, 21], ['fused', 21, 32]],
  );
  // Head 0 decides at 14, during segment 1: the trunk stops at 20.5. Head 1 decides at 24.5, during
  // the final segment fused with the final exit: the trunk runs to 32.
  const per = exitOccupancy(line);
  assert.deepEqual(per, [
    { trunkMs: 20.5, branchMs: 3 },
    { trunkMs: 32, branchMs: 6 },
    { trunkMs: 32, branchMs: 6 },
  ]);
  const o = expectedOccupancy(twoExits([3, 3]), ['branch', 'branch'], formulaStatistics([0.5, 0.5]));
  close(o.trunkMs, 0.5 * 20.5 + 0.25 * 32 + 0.25 * 32);
  close(o.branchMs, 0.5 * 3 + 0.5 * 6);
  close(o.expectedMs, 21.125); // the latency: 0.5·14 + 0.25·24.5 + 0.25·32
  assert.equal(o.bottleneck, 'trunk');
  close(o.tasksPerS, 1000 / 26.25);
});

test('occupancy: an answer the trunk gives itself stops it at once (serial: occupancy = latency)', () => {
  const stats = formulaStatistics([0.5, 0.5]);
  const o = expectedOccupancy(twoExits(), ['trunk', 'trunk'], stats);
  close(o.trunkMs, 25.25);
  close(o.expectedMs, 25.25);
  assert.equal(o.branchMs, 0);
  const line = timeline(twoExits(), ['trunk', 'trunk']);
  assert.deepEqual(line.trunkSteps.map((s) => s.kind), ['fused', 'fused', 'fused']);
  close(trunkStopMs(line, 15), 15);
  close(trunkStopMs(line, 15.1), 30);
  close(trunkStopMs(line, 99), 41);
});

test('occupancy: a branch head that starts after the answer is dropped and costs no CPU', () => {
  // Branch head 0 is slow (12 ms): head 1 waits for it and starts at 23; the final exit is at 32.
  const line = timeline(twoExits([12, 3]), ['branch', 'branch']);
  assert.equal(line.exits[1].startMs, 23);
  const per = exitOccupancy(line);
  // Exit 0 answers at 23: head 1 has not started.
  assert.deepEqual(per[0], { trunkMs: 32, branchMs: 12 });
  assert.deepEqual(per[2], { trunkMs: 32, branchMs: 15 });
});

test('occupancy with boundary timing: the trunk stops where it notices the answer', () => {
  const model: TimelineModel = { ...twoExits([3, 3]), answerAt: 'boundary' };
  const line = timeline(model, ['branch', 'branch']);
  close(line.exits[0].answerMs, 21); // the start of segment 2 (after the hand-off of exit 1)
  close(exitOccupancy(line)[0].trunkMs, 21);
});

test('throughput objective: serial beats a parallel trunk that speculates; latency still picks parallel', () => {
  const model = twoExits([3, 3]);
  const stats = formulaStatistics([0.5, 0.5]);
  const latency = searchPlan(model, stats);
  assert.equal(latency.objective, 'latency');
  assert.deepEqual(latency.plan, ['branch', 'branch']);
  const backlog = searchPlan(model, stats, { objective: 'throughput' });
  assert.equal(backlog.objective, 'throughput');
  assert.deepEqual(backlog.plan, ['trunk', 'trunk']);
  close(backlog.occupancy.trunkMs, 25.25);
  close(backlog.occupancy.tasksPerS, 1000 / 25.25);
  close(backlog.expectedMs, 25.25);
  close(backlog.presetsTasksPerS.parallel, 1000 / 26.25);
  close(backlog.presetsTasksPerS.serial, 1000 / 25.25);
  close(backlog.presetsTasksPerS.full, 1000 / 31);
  // The result is the best over every plan.
  const best = Math.min(...allPlans().map((p) => expectedOccupancy(model, p, stats).occupancyMs));
  close(1000 / backlog.occupancy.tasksPerS, best);
  // Local search agrees.
  assert.deepEqual(searchPlan(model, stats, { objective: 'throughput', exhaustiveLimit: 0 }).plan, ['trunk', 'trunk']);
  assert.throws(() => searchPlan(model, stats, { objective: 'speed' as never }), /unknown objective 'speed'/);
});

test('throughput: a slow branch worker is the bottleneck', () => {
  const model: TimelineModel = {
    afterSegment: [0, 1, 2],
    times: { segments: [1, 1, 1], trunkHeads: [1, 1, 1], branchHeads: [10, 10] },
    handoffMs: [0.1, 0.1],
    handoffTrunkMs: [0.1, 0.1],
    abortMs: 0,
    answerAt: 'decision',
  };
  const o = expectedOccupancy(model, ['branch', 'branch'], formulaStatistics([0, 0]));
  close(o.trunkMs, 4.2);
  close(o.branchMs, 10); // head 0 runs (starts at 1.1); head 1 would start at 11.1, after the final answer
  assert.equal(o.bottleneck, 'branch');
  close(o.tasksPerS, 100);
  // Under a backlog no plan with a branch head can beat one without here.
  const r = searchPlan(model, formulaStatistics([0.3, 0.3]), { objective: 'throughput' });
  assert.ok(!r.plan.includes('branch'), r.plan.join(','));
});

test('fused inline heads replace separate ones on the trunk (inline heads and the final exit)', () => {
  const base = twoExits();
  const fused: TimelineModel = { ...base, times: { ...base.times, fusedHeads: [1, 1, 0.5] } };
  const line = timeline(fused, ['trunk', 'trunk']);
  close(line.exits[0].answerMs, 11);
  close(line.exits[1].answerMs, 22);
  close(line.finalMs, 32.5);
  close(expectedLatency(fused, ['trunk', 'trunk'], formulaStatistics([0.5, 0.5])).expectedMs, 0.5 * 11 + 0.25 * 22 + 0.25 * 32.5);
  assert.deepEqual(searchPlan(fused, formulaStatistics([0.5, 0.5])).inputs.fusedHeadMs, [1, 1, 0.5]);
  assert.equal(searchPlan(base, formulaStatistics([0.5, 0.5])).inputs.fusedHeadMs, undefined);
  for (const bad of [[1, 1], [1, -1, 1], [1, 1, Number.NaN]]) {
    assert.throws(() => validateTimelineModel({ ...base, times: { ...base.times, fusedHeads: bad } }), /fusedHeads/);
  }
});

test('plan table: backlog plans, predicted tasks/s and latencies per row; planFor picks by backlog', () => {
  const stats = formulaStatistics([0.5, 0.5]);
  const model = twoExits([3, 3]);
  const table = buildPlanTable(
    'tiny',
    [{ cpuUtil: 0, result: searchPlan(model, stats), backlog: searchPlan(model, stats, { objective: 'throughput' }) }],
    { createdAt: 'fixed' },
  );
  const row = table.rows[0];
  assert.deepEqual(row.plan, ['branch', 'branch']);
  assert.equal(row.expected_ms, 21.125);
  assert.equal(row.tasks_per_s, Math.round((1000 / 26.25) * 1e6) / 1e6);
  assert.deepEqual(row.backlog_plan, ['trunk', 'trunk']);
  assert.equal(row.backlog_expected_ms, 25.25);
  assert.equal(row.backlog_tasks_per_s, Math.round((1000 / 25.25) * 1e6) / 1e6);
  assert.deepEqual(row.presets_ms, { serial: 25.25, parallel: 21.125, full: 31 });
  assert.equal(row.presets_tasks_per_s?.full, Math.round((1000 / 31) * 1e6) / 1e6);

  assert.deepEqual(planFor(table, 0.3, false), { plan: ['branch', 'branch'], expected_ms: 21.125, tasks_per_s: row.tasks_per_s, objective: 'latency' });
  assert.deepEqual(planFor(table, 0.3, true), { plan: ['trunk', 'trunk'], expected_ms: 25.25, tasks_per_s: row.backlog_tasks_per_s, objective: 'throughput' });
  // A table without backlog plans: the latency plan either way.
  const withoutBacklog = buildPlanTable('tiny', [{ cpuUtil: 0, result: searchPlan(model, stats) }], { createdAt: 'fixed' });
  assert.equal(withoutBacklog.rows[0].backlog_plan, undefined);
  assert.deepEqual(planFor(withoutBacklog, 0, true).plan, ['branch', 'branch']);
  assert.equal(planFor(withoutBacklog, 0, true).objective, 'latency');
});

test('an old plans.json (no backlog fields) still reads: planFor falls back to the latency plan', () => {
  const old: PlanTable = JSON.parse(
    JSON.stringify({
      model: 'branchy-mnist',
      created_at: '2026-11-26T09:05:00.610Z',
      method: 'empirical exit statistics; answer at boundary; exhaustive search',
      rows: [
        { cpu_util_max: 0.05, cpu_util: 0, plan: ['trunk', 'trunk'], expected_ms: 0.031888, presets_ms: { serial: 0.031888, parallel: 0.332398, full: 0.05981 } },
        { cpu_util_max: 1, cpu_util: 0.1, plan: ['trunk', 'skip'], expected_ms: 0.032322 },
      ],
    }),
  );
  assert.deepEqual(planFor(old, 0, true), { plan: ['trunk', 'trunk'], expected_ms: 0.031888, objective: 'latency' });
  assert.deepEqual(planFor(old, 0.9, false), { plan: ['trunk', 'skip'], expected_ms: 0.032322, objective: 'latency' });
  assert.deepEqual(planForUtilization(old, 0.9).plan, ['trunk', 'skip']);
  // The tables in the repository read, with or without backlog plans.
  for (const file of ['models/branchy-mnist/plans.json', 'models/branchy-bench/plans.json', 'models/branchy-bench/plans-webgpu.json']) {
    const table = JSON.parse(readFileSync(join(__dirname, '../../..', file), 'utf8')) as PlanTable;
    for (const backlog of [false, true]) {
      const choice = planFor(table, 0.5, backlog);
      assert.equal(choice.plan.length, table.rows[0].plan.length, file);
      assert.ok(choice.expected_ms > 0, file);
    }
  }
});

test('transfer.json: version 1 reads as Redis; version 2 holds one model per transport (shm by default)', () => {
  // A version-1 file as `outlet transfer` wrote them before transports were measured apart (Redis only).
  const v1 = transferModelFrom({
    kind: 'outlet-transfer',
    version: 1,
    model: { transfer: { fixed_ms: 0.6748, per_byte_ms: 1.2e-6 }, trunk: { fixed_ms: 0.1333, per_byte_ms: 6.36e-7 }, notify_ms: 0.105 },
  });
  assert.equal(v1.transport, 'redis');
  assert.equal(v1.transports, undefined);
  // shm asked, not measured: the file's model (Redis) is used.
  close(handoffMs(v1, 1000), v1.transfer.fixed_ms + 1000 * v1.transfer.per_byte_ms);
  close(handoffMs(v1, 1000, 'redis'), handoffMs(v1, 1000, 'shm'));
  assert.equal(handoffCost(v1).transport, 'redis');

  const redis = { transfer: { fixed_ms: 0.7, per_byte_ms: 1e-6 }, trunk: { fixed_ms: 0.15, per_byte_ms: 6e-7 } };
  const shm = { transfer: { fixed_ms: 0.5, per_byte_ms: 7e-7 }, trunk: { fixed_ms: 0.05, per_byte_ms: 5e-7 } };
  const v2 = transferModelFrom({ kind: 'outlet-transfer', version: 2, model: { ...shm, transport: 'shm', transports: { redis, shm }, notify_ms: 0.1 } });
  close(handoffMs(v2, 1e6), 0.5 + 0.7);
  close(handoffTrunkMs(v2, 1e6), 0.05 + 0.5);
  close(handoffMs(v2, 1e6, 'redis'), 0.7 + 1);
  close(handoffTrunkMs(v2, 1e6, 'redis'), 0.15 + 0.6);
  // Only per-transport models: the main one is shm, else redis.
  const onlyRedis = transferModelFrom({ version: 2, model: { transports: { redis }, notify_ms: 0.1 } });
  assert.equal(onlyRedis.transport, 'redis');
  close(handoffMs(onlyRedis, 0), 0.7);
  const both = transferModelFrom({ model: { transports: { redis, shm }, notify_ms: 0.1 } });
  assert.equal(both.transport, 'shm');
  close(both.transfer.fixed_ms, 0.5);
  assert.throws(() => transferModelFrom({ model: { transports: { tcp: redis }, notify_ms: 0 } }), /unknown transport 'tcp'/);
  assert.throws(() => transferModelFrom({ model: { transports: { shm: { transfer: shm.transfer } }, notify_ms: 0 } }), /transports\.shm\.trunk/);
  assert.throws(() => transferModelFrom({ model: { transports: {}, notify_ms: 0 } }), /empty/);
});

test('empirical statistics: occupancy is the answer-share-weighted mean of the per-exit occupancies', () => {
  const stats = empiricalStatistics([[true, false], [true, true], [false, true], [false, false], [false, false]], 2);
  for (const plan of allPlans()) {
    const line = timeline(twoExits([3, 8]), plan);
    const per = exitOccupancy(line);
    const o = expectedOccupancy(twoExits([3, 8]), plan, stats);
    const mean = o.answerShare.reduce((a, s, i) => a + s * per[i].trunkMs, 0);
    close(o.trunkMs, mean, plan.join(','));
    assert.ok(o.trunkMs >= o.expectedMs - 1e-9, `occupancy ${o.trunkMs} < latency ${o.expectedMs} for ${plan.join(',')}`);
  }
});
