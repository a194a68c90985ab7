import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { bullConnection } from '@outlet/config';
import { inferQueueName, nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { listFeatureFiles } from '@outlet/transport';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { post } from '../support/http';
import { TrunkRecords } from '../support/trunk-record';

/** slow-segment: 3 segments of ~200 ms, exit 0 always confident (it answers when a branch worker lives). */
const MODEL = 'slow-segment';
const NODE = 'edge-crash';
const TASKS = 4;

describe('a branch worker killed mid-task', () => {
  let system: OutletSystem;
  let records: TrunkRecords;
  let queue: Queue;
  let featureRoot: string;

  before(async () => {
    featureRoot = mkdtempSync(join(tmpdir(), 'outlet-crash-'));
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_DIR: featureRoot },
      nodes: [{ nodeId: NODE }],
    });
    records = await new TrunkRecords(system.redisUrl, MODEL).ready();
    queue = new Queue(inferQueueName(MODEL), { connection: bullConnection(system.redisUrl) });
  });

  after(async () => {
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
  });
});
