import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { queueOptions } from '@outlet/config';
import { BranchJobData, JobName, branchQueueName, featureKey, float32ToBuffer, inferQueueName, nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { listFeatureFiles } from '@outlet/transport';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { post } from '../support/http';
import { untilZero } from '../support/poll';
import { TrunkRecords } from '../support/trunk-record';

/** slow-segment: 3 segments of ~200 ms, exit 0 always confident (it answers when a branch worker lives). */
const MODEL = 'slow-segment';
const NODE = 'edge-crash';
const TASKS = 4;
/** Default OUTLET_LOCK_MS 4000: a dead branch worker's subjob fails within ~6 s; asserted with a wide margin. */
const SUBJOB_FAIL_BOUND_MS = 15_000;

describe('a branch worker killed mid-task', () => {
  let system: OutletSystem;
  let records: TrunkRecords;
  let queue: Queue;
  let branchQueue: Queue<BranchJobData>;
  let featureRoot: string;

  before(async () => {
    featureRoot = mkdtempSync(join(tmpdir(), 'outlet-crash-'));
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_DIR: featureRoot },
      nodes: [{ nodeId: NODE }],
    });
    records = await new TrunkRecords(system.redisUrl, MODEL).ready();
    queue = new Queue(inferQueueName(MODEL), queueOptions(inferQueueName(MODEL), system.redisUrl));
    branchQueue = new Queue(branchQueueName(NODE), queueOptions(branchQueueName(NODE), system.redisUrl));
  });

  after(async () => {
    await branchQueue?.close();
    await queue?.close();
    await records?.close();
    await system?.stop();
    if (featureRoot) rmSync(featureRoot, { recursive: true, force: true });
  });

  test('SIGKILL of the branch worker while parallel tasks are in flight: every task is still answered (200), by the trunk', async () => {
    const answers = Array.from({ length: TASKS }, (_, i) => post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(i, 3), { plan: 'parallel' }, `crash-${i}`)));
    // Kill as soon as the trunk has taken the first task (its first segment takes ~200 ms).
    const deadline = Date.now() + 30_000;
    while ((await queue.getActiveCount()) === 0) {
      assert.ok(Date.now() < deadline, 'the trunk never took a task');
      await new Promise((r) => setTimeout(r, 5));
    }
    const branch = system.nodes[0].branch;
    const killedAt = nowMs();
    await branch.stop('SIGKILL');
    assert.equal(branch.running, false, 'the branch worker is gone');

    const results = await Promise.all(answers);
    let afterKill = 0;
    for (const res of results) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const p = res.body.parameters;
      const { answer, telemetry } = await records.of(p.task_id);
      assert.equal(answer.exitIndex, p.exit_index);
      const trunkStartedAt = telemetry.trunkStoppedAt - telemetry.trunkMs;
      if (trunkStartedAt >= killedAt) {
        // No branch worker lived at any point of this task: the trunk's final exit answered.
        afterKill++;
        assert.equal(p.exit_worker, 'trunk', JSON.stringify(p));
        assert.equal(p.exit_index, 2, JSON.stringify(p));
        assert.deepEqual(telemetry.segmentsRan, [0, 1, 2]);
      } else if (p.exit_worker === 'branch') {
        // Only the first task may have been answered by the branch, before it died.
        assert.equal(p.exit_index, 0);
        assert.ok(answer.decidedAt < killedAt, `branch answer decided at ${answer.decidedAt}, after the kill at ${killedAt}`);
      } else {
        assert.equal(p.exit_index, 2);
      }
    }
    assert.ok(afterKill >= TASKS - 1, `${afterKill} task(s) started after the kill`);
    // The trunk removed every feature it handed off: the dead worker never took them.
    assert.deepEqual(listFeatureFiles(join(featureRoot, NODE)), []);
    // No subjob of the dead worker is left active (the node's trunk runs the branch queue's stalled check).
    await untilZero('subjob(s) still active', () => branchQueue.getActiveCount(), SUBJOB_FAIL_BOUND_MS);
  });

  test('SIGKILL of the branch worker mid-subjob: the subjob is dropped within seconds, none is left active, the trunk still answers', async (t) => {
    const branch = await system.respawn(NODE, 'branch');
    // Subjobs as a trunk hands them off, for slow-head's first exit (a head of ~80-150 ms that is never
    // confident): the branch worker is surely inside one when it dies.
    const redis = new Redis(system.redisUrl);
    try {
      const values = new Float32Array(8 * 28 * 28).fill(0.5);
      for (let i = 0; i < 12; i++) {
        const taskId = `crafted-${i}`;
        const key = featureKey(taskId, 0);
        await redis.set(key, float32ToBuffer(values), 'PX', 60_000);
        const data: BranchJobData = {
          taskId,
          model: 'slow-head',
          exitIndex: 0,
          feature: { transport: 'redis', key },
          featureShape: [1, 8, 28, 28],
          threshold: 0.9,
          trunkNodeId: NODE,
          handedOffAt: nowMs(),
          task: { requestId: taskId, trunkEp: 'cpu', plan: ['branch', 'branch'], planSource: 'request', queueMs: 0, thresholdVersion: 1 },
        };
        await branchQueue.add(JobName.ExitHead, data);
      }
    } finally {
      await redis.quit();
    }
    const deadline = Date.now() + 30_000;
    while ((await branchQueue.getActiveCount()) === 0) {
      assert.ok(Date.now() < deadline, 'the branch worker never took a subjob');
      await new Promise((r) => setTimeout(r, 5));
    }
    // The trunk's lines from now on: it logs the drop after removing the subjob, so the test waits for the line.
    const trunkLines: string[] = [];
    let onLine = () => {};
    const untap = system.nodes[0].trunk.tap((line) => {
      trunkLines.push(line);
      onLine();
    });
    await branch.stop('SIGKILL');
    // What it held when it died (nobody else moves subjobs out of "active" but the stalled check).
    const active: Job<BranchJobData>[] = await branchQueue.getActive();
    assert.ok(active.length > 0, 'killed mid-subjob');
    const failMs = await untilZero('subjob(s) of the dead branch worker still active', () => branchQueue.getActiveCount(), SUBJOB_FAIL_BOUND_MS);
    t.diagnostic(`no subjob active ${failMs} ms after the kill (OUTLET_LOCK_MS 4000)`);
    // Dropped by the node's trunk (no branch worker lives to fail it): the stalled check puts each
    // back in "waiting" and the trunk removes it a moment later, logging after the removal, so the
    // test waits for every subjob's line before it looks at their states.
    const drops = active.map((job) => new RegExp(`subjob ${job.id} stalled .*: dropped`));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the trunk did not log every drop within ${SUBJOB_FAIL_BOUND_MS} ms`)), SUBJOB_FAIL_BOUND_MS);
        onLine = () => {
          if (!drops.every((drop) => trunkLines.some((l) => drop.test(l)))) return;
          clearTimeout(timer);
          resolve();
        };
        onLine();
      });
    } finally {
      untap();
    }
    // Removed, never run again.
    for (const job of active) assert.equal(await branchQueue.getJobState(job.id!), 'unknown', `subjob ${job.id}`);
    // Tasks go on without any branch worker: the trunk's final exit answers.
    const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(1, 3), { plan: 'parallel' }, 'after-subjob-kill'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.parameters.exit_worker, 'trunk');
  });
});
