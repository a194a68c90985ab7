import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { branchQueueName, featureKey } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { listFeatureFiles } from '@outlet/transport';
import { maxProbability } from '@outlet/inference';
import { heldOutDigit, inferBody } from '../support/digits';
import { DirectModel, FIXTURE_MODELS_DIR, MODELS_DIR } from '../support/direct';
import { post } from '../support/http';
import { TrunkRecords } from '../support/trunk-record';

/**
 * The two hand-offs of a feature from trunk to branch: a file in the node's shared-memory folder
 * (default) and a Redis value (OUTLET_FEATURE_TRANSPORT=redis). Two systems, one per transport,
 * serve the same packages: branchy-mnist and the fixtures slow-exit (an 800 KB feature; exit 0
 * always confident and 4 slow segments after it, so the branch always answers), slow-segment (the
 * same with a 50 KB feature) and slow-head (a fast trunk that always wins; its subjobs are dropped).
 */
const TRANSPORTS = ['shm', 'redis'] as const;
type Transport = (typeof TRANSPORTS)[number];
const NODE = 'edge-h';
const MODELS = ['branchy-mnist', 'slow-exit', 'slow-segment', 'slow-head'];

interface Running {
  system: OutletSystem;
  featureRoot: string;
  redis: Redis;
  records: Map<string, TrunkRecords>;
  branch: Queue;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('feature hand-off: shared memory vs Redis', () => {
  let modelsDir: string;
  const running = new Map<Transport, Running>();
  const direct = new Map<string, DirectModel>();

  before(async () => {
    // One models folder with the trained package and the fixtures (links to the real folders).
    modelsDir = mkdtempSync(join(tmpdir(), 'outlet-handoff-models-'));
    symlinkSync(join(MODELS_DIR, 'branchy-mnist'), join(modelsDir, 'branchy-mnist'));
    for (const name of ['slow-exit', 'slow-segment', 'slow-head']) symlinkSync(join(FIXTURE_MODELS_DIR, name), join(modelsDir, name));
    for (const transport of TRANSPORTS) {
      const featureRoot = mkdtempSync(join(tmpdir(), `outlet-handoff-${transport}-`));
      const system = await OutletSystem.start({
        quiet: true,
        env: { OUTLET_MODELS_DIR: modelsDir, OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_TRANSPORT: transport, OUTLET_FEATURE_DIR: featureRoot },
        nodes: [{ nodeId: NODE }],
      });
      const records = new Map<string, TrunkRecords>();
      for (const model of MODELS) records.set(model, await new TrunkRecords(system.redisUrl, model).ready());
      running.set(transport, {
        system,
        featureRoot,
        redis: new Redis(system.redisUrl),
        records,
        branch: new Queue(branchQueueName(NODE), queueOptions(branchQueueName(NODE), system.redisUrl)),
      });
    }
    for (const name of ['branchy-mnist', 'slow-exit', 'slow-segment']) direct.set(name, await DirectModel.open(join(modelsDir, name)));
  });

  after(async () => {
    for (const d of direct.values()) await d.release();
    for (const r of running.values()) {
      r.redis.disconnect();
      await r.branch.close();
      for (const rec of r.records.values()) await rec.close();
      await r.system.stop();
      rmSync(r.featureRoot, { recursive: true, force: true });
    }
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });

  const infer = (transport: Transport, model: string, pixels: number[], parameters: Record<string, unknown>, id?: string) =>
    post(`${running.get(transport)!.system.baseUrl}/v2/models/${model}/infer`, inferBody(pixels, parameters, id));

  test('branch answers (slow-exit, slow-segment) are identical through either hand-off, and equal direct onnxruntime to 1e-5', async () => {
    for (const model of ['slow-exit', 'slow-segment']) {
      for (const [label, nth] of [[0, 0], [4, 1], [7, 2], [9, 3]]) {
        const pixels = heldOutDigit(label, nth);
        const [shm, redis] = await Promise.all(TRANSPORTS.map(async (transport) => {
          const res = await infer(transport, model, pixels, { plan: 'parallel' }, `${model}-${label}-${nth}`);
          assert.equal(res.status, 200, `${transport}: ${JSON.stringify(res.body)}`);
          return res.body;
        }));
        const what = `${model} digit ${label}#${nth}`;
        for (const body of [shm, redis]) {
          assert.equal(body.parameters.exit_worker, 'branch', `${what}: the branch head answers`);
          assert.equal(body.parameters.exit_index, 0, what);
        }
        assert.deepEqual(redis.outputs, shm.outputs, `${what}: redis and shm outputs identical`);
        assert.equal(redis.parameters.exit_confidence, shm.parameters.exit_confidence, what);
        const expected = (await direct.get(model)!.allExits(pixels))[0];
        assert.ok(maxAbsDiff(shm.outputs[0].data, expected) <= 1e-5, `${what}: answer vs direct exit 0`);
      }
    }
  });

  test('branchy-mnist (parallel): every answer equals direct inference of its exit to 1e-5 on both transports, identical where the same exit answered', async () => {
    let same = 0;
    /** Direct exits by task id, to check the heads that ran on handed-off features. */
    const expectedByTask = new Map<string, Float32Array[]>();
    for (let d = 0; d < 16; d++) {
      const [label, nth] = [d % 10, 5 + Math.floor(d / 10)];
      const pixels = heldOutDigit(label, nth);
      const exits = await direct.get('branchy-mnist')!.allExits(pixels);
      const bodies: Record<Transport, any> = {} as any;
      for (const transport of TRANSPORTS) {
        const res = await infer(transport, 'branchy-mnist', pixels, { plan: 'parallel' });
        assert.equal(res.status, 200, `${transport}: ${JSON.stringify(res.body)}`);
        const p = res.body.parameters;
        assert.ok(maxAbsDiff(res.body.outputs[0].data, exits[p.exit_index]) <= 1e-5, `${transport} digit ${label}#${nth}: exit ${p.exit_index} (${p.exit_worker}) vs direct`);
        bodies[transport] = res.body;
        expectedByTask.set(p.task_id, exits);
      }
      // On this small model the trunk's final exit and a branch head race; the same exit gives the same bits.
      if (bodies.shm.parameters.exit_index === bodies.redis.parameters.exit_index) {
        same++;
        assert.deepEqual(bodies.redis.outputs, bodies.shm.outputs, `digit ${label}#${nth}: same exit, same outputs`);
      }
    }
    assert.ok(same > 0, 'some digit was answered from the same exit on both transports');
    // Every head that ran on a handed-off feature (answering or not) saw the exact feature: its
    // confidence is direct inference's for that exit.
    for (const transport of TRANSPORTS) {
      const branch = running.get(transport)!.branch;
      let ran = 0;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const counts = await branch.getJobCounts('waiting', 'active');
        if (counts.waiting + counts.active === 0) break;
        assert.ok(Date.now() < deadline, `${transport}: branch subjobs still pending`);
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const job of await branch.getJobs(['completed'], 0, 1000)) {
        const exits = expectedByTask.get(job.data.taskId);
        const result = job.returnvalue;
        if (!exits || result?.confidence === undefined) continue;
        ran++;
        assert.ok(Math.abs(result.confidence - maxProbability(exits[job.data.exitIndex])) <= 1e-5, `${transport}: head ${job.data.exitIndex} of ${job.data.taskId}: ${result.confidence} vs direct`);
      }
      assert.ok(ran > 0, `${transport}: some branch head ran on a handed-off branchy-mnist feature`);
    }
  });

  test('no feature is left behind after a run of tasks (branch wins, trunk wins, dropped subjobs)', async () => {
    const batch: [string, string][] = [];
    for (const model of ['slow-head', 'slow-segment', 'slow-exit', 'branchy-mnist']) for (let i = 0; i < 4; i++) batch.push([model, `${model}-${i}`]);
    for (const transport of TRANSPORTS) {
      const r = running.get(transport)!;
      // First, tasks whose subjobs are certainly dropped: the branch queue is held until the trunk
      // has answered them (slow-head's final exit) and released their features.
      await r.branch.pause();
      try {
        for (let i = 0; i < 3; i++) {
          const res = await infer(transport, 'slow-head', heldOutDigit(i, 7), { plan: 'parallel' });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.parameters.exit_worker, 'trunk');
          await r.records.get('slow-head')!.of(res.body.parameters.task_id);
        }
      } finally {
        await r.branch.resume();
      }
      // Then a mixed batch all at once: the trunk takes them one by one, the branch worker's queue fills up.
      const results = await Promise.all(batch.map(([model], i) => infer(transport, model, heldOutDigit(i % 10, 4), { plan: 'parallel' })));
      results.forEach((res) => assert.equal(res.status, 200, JSON.stringify(res.body)));
      assert.ok(results.some((res) => res.body.parameters.exit_worker === 'trunk'), 'some tasks were answered by the trunk');
      assert.ok(results.some((res) => res.body.parameters.exit_worker === 'branch'), 'some tasks were answered by a branch head');
      // Every task's job has completed (its trunk has stopped and released its features)...
      for (let i = 0; i < batch.length; i++) await r.records.get(batch[i][0])!.of(results[i].body.parameters.task_id);
      // ...and every subjob has been taken (run or dropped) by the branch worker.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const counts = await r.branch.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(counts).every((n) => n === 0)) break;
        assert.ok(Date.now() < deadline, `${transport}: branch subjobs still pending: ${JSON.stringify(counts)}`);
        await new Promise((res) => setTimeout(res, 20));
      }
      const dropped = (await r.branch.getJobs(['completed'], 0, 1000)).filter((j) => j.returnvalue?.outcome === 'dropped');
      assert.ok(dropped.length > 0, `${transport}: some subjobs were dropped (their task was answered first)`);
      // The branch worker removes what it takes, the trunk what it handed off when its task ends:
      // by now nothing is left, in the folder or in Redis.
      const folder = join(r.featureRoot, NODE);
      await until(() => listFeatureFiles(folder).length === 0, () => `${transport}: feature files left in ${folder}: ${listFeatureFiles(folder).join(', ')}`);
      let keys: string[] = [];
      await until(async () => (keys = await r.redis.keys(featureKey('*', 0).replace(/:0$/, ':*'))).length === 0, () => `${transport}: feature keys left in Redis: ${keys.join(', ')}`);
    }
  });
});

/** Poll `condition` until it holds; fail with `why()` after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, why: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, why());
    await new Promise((r) => setTimeout(r, 20));
  }
}
