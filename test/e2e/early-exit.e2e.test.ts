import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { BranchJobData, BranchResult, branchQueueName } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { post } from '../support/http';
import { TrunkRecords } from '../support/trunk-record';

/** Fixture models: slow-exit (5 slow segments, exit 0 always confident), slow-head (fast trunk, slow heads). */
const input = { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.5) }] };

describe('early exit across processes', () => {
  let system: OutletSystem;
  let records: TrunkRecords;
  let branch: Queue<BranchJobData, BranchResult>;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-x' }],
    });
    records = await new TrunkRecords(system.redisUrl, 'slow-exit').ready();
    branch = new Queue(branchQueueName('edge-x'), queueOptions(branchQueueName('edge-x'), system.redisUrl));
  });

  after(async () => {
    await records?.close();
    await branch?.close();
    await system?.stop();
  });

  const run = async (model: string, plan: string) => {
    const res = await post(`${system.baseUrl}/v2/models/${model}/infer`, { ...input, parameters: { plan } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.parameters;
  };

  test('parallel: a confident branch head answers and stops the trunk; later segments never run', async () => {
    for (let i = 0; i < 3; i++) {
      const p = await run('slow-exit', 'parallel');
      assert.equal(p.exit_index, 0);
      assert.equal(p.exit_worker, 'branch');
      // The trunk worker's own record: which segments it ran, and the job's answer is the client's.
      const { answer, telemetry } = await records.of(p.task_id);
      assert.equal(answer.exitWorker, 'branch');
      assert.equal(answer.exitIndex, 0);
      assert.ok(telemetry.segmentsRan.length <= 2, `trunk ran ${telemetry.segmentsRan}`);
      for (const later of [2, 3, 4]) assert.ok(!telemetry.segmentsRan.includes(later), `segment ${later} ran`);
      assert.ok(telemetry.trunkStoppedAt >= telemetry.decidedAt);
    }
  });

  test('serial: the first confident exit answers inline (fused with its segment) after one segment', async () => {
    const p = await run('slow-exit', 'serial');
    assert.equal(p.exit_index, 0);
    assert.equal(p.exit_worker, 'trunk');
    assert.deepEqual((await records.of(p.task_id)).telemetry.segmentsRan, [0]);
  });

  test('full: the original network answers from the final exit', async () => {
    const p = await run('slow-exit', 'full');
    assert.equal(p.exit_index, 4);
    assert.equal(p.exit_worker, 'trunk');
    assert.deepEqual((await records.of(p.task_id)).telemetry.segmentsRan, [0, 1, 2, 3, 4]);
  });

  test('when the trunk reaches the final exit first, the pending branch subjobs are dropped', async () => {
    // slow-head's final exit takes as long as a branch head (~100 ms each), so who finishes first is
    // a race on a busy machine. Hold the branch queue until the task is over: its subjobs are then
    // pending by construction, and must be dropped without running their heads.
    await branch.pause();
    let p: Record<string, any>;
    const slowHead = await new TrunkRecords(system.redisUrl, 'slow-head').ready();
    try {
      p = await run('slow-head', 'parallel');
      assert.equal(p.exit_index, 2, 'the trunk answers from the final exit (no head is ever confident)');
      assert.equal(p.exit_worker, 'trunk');
      // The task's job is complete: its trunk has stopped and released its features.
      assert.deepEqual((await slowHead.of(p.task_id)).telemetry.segmentsRan, [0, 1, 2]);
    } finally {
      await slowHead.close();
      await branch.resume();
    }
    // The branch worker records every subjob it took; find this task's.
    const taskJobs = async () => {
      const jobs = await branch.getJobs(['completed', 'failed', 'active', 'waiting'], 0, 200);
      return jobs.filter((j) => j.data.taskId === p.task_id);
    };
    let jobs = await taskJobs();
    const deadline = Date.now() + 10_000;
    while ((jobs.length < 2 || jobs.some((j) => !j.returnvalue)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      jobs = await taskJobs();
    }
    const byExit = new Map(jobs.map((j) => [j.data.exitIndex, j.returnvalue as BranchResult | undefined]));
    const seen = JSON.stringify(jobs.map((j) => ({ exit: j.data.exitIndex, result: j.returnvalue, failed: j.failedReason })));
    for (const exit of [0, 1]) {
      assert.equal(byExit.get(exit)?.outcome, 'dropped', `the head of exit ${exit} never ran; subjobs seen: ${seen}`);
      assert.equal(byExit.get(exit)?.headMs, undefined);
    }
  });
});
