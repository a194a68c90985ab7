import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { BranchJobData, BranchResult, branchQueueName } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR, MODELS_DIR } from '../support/direct';
import { post, waitForJob } from '../support/http';

describe('a fleet of two nodes', () => {
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'node-a' }, { nodeId: 'node-b' }],
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('both nodes serve concurrent requests; every branch subjob runs on the node of its trunk job', async () => {
    const digits = Array.from({ length: 48 }, (_, i) => heldOutDigit(i % 10, Math.floor(i / 10)));
    const answers = await Promise.all(
      digits.map((pixels) => post(`${system.baseUrl}/v2/models/branchy-mnist/infer`, inferBody(pixels, { plan: 'parallel' }))),
    );
    answers.forEach((a) => assert.equal(a.status, 200, JSON.stringify(a.body)));
    const servedBy = new Set(answers.map((a) => a.body.parameters.node_id));
    assert.deepEqual([...servedBy].sort(), ['node-a', 'node-b'], 'both trunk workers took tasks');

    let subjobs = 0;
    for (const nodeId of ['node-a', 'node-b']) {
      const queue = new Queue<BranchJobData, BranchResult>(branchQueueName(nodeId), queueOptions(branchQueueName(nodeId), system.redisUrl));
      try {
        for (const job of await queue.getJobs(['completed'], 0, 1000)) {
          const record = job.returnvalue as BranchResult;
          assert.equal(job.data.trunkNodeId, nodeId, 'subjob queued on its trunk node');
          assert.equal(record.nodeId, nodeId, 'subjob run by that node\'s branch worker');
          subjobs++;
        }
      } finally {
        await queue.close();
      }
    }
    assert.ok(subjobs > 0, 'branch subjobs ran');
  });
});

describe('SIGTERM under load', () => {
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'node-a' }, { nodeId: 'node-b' }],
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('a trunk worker stopped during load finishes its task, exits cleanly, and no accepted task is lost', async () => {
    const body = { model: 'slow-exit', inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.2) }], parameters: { plan: 'full' } };
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const res = await post(`${system.baseUrl}/v1/jobs`, body);
      assert.equal(res.status, 202);
      ids.push(res.body.id);
    }
    // Each task runs ~200 ms: stop node-a's trunk once the first task has finished (mid-load).
    await waitForJob(system.baseUrl, ids[0]);
    const nodeA = system.nodes.find((n) => n.nodeId === 'node-a')!;
    const code = await nodeA.trunk.stop('SIGTERM');
    assert.equal(code, 0, `trunk worker exit code ${code}:\n${nodeA.trunk.lines().slice(-5).join('\n')}`);

    const results = await Promise.all(ids.map((id) => waitForJob(system.baseUrl, id, 60_000)));
    const failed = results.filter((r) => r.state !== 'completed');
    assert.deepEqual(failed, [], 'every accepted task completed');
    const byNode = new Set(results.map((r) => r.result.parameters.node_id));
    assert.ok(byNode.has('node-b'), 'node-b took over');
  });

  test('a branch worker stopped during load loses no task either (the final exit answers)', async () => {
    const body = { model: 'slow-exit', inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.3) }], parameters: { plan: 'parallel' } };
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await post(`${system.baseUrl}/v1/jobs`, body)).body.id);
    await waitForJob(system.baseUrl, ids[0]);
    const nodeB = system.nodes.find((n) => n.nodeId === 'node-b')!;
    assert.equal(await nodeB.branch.stop('SIGTERM'), 0);
    const results = await Promise.all(ids.map((id) => waitForJob(system.baseUrl, id, 60_000)));
    assert.deepEqual(results.filter((r) => r.state !== 'completed'), []);
  });
});
