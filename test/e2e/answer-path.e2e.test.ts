import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { HEARTBEAT_INTERVAL_MS, NodeStatus, nodeStatusKey, nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { assertViewsAgree } from '../support/agreement';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { post, waitForJob } from '../support/http';
import { TrunkRecords } from '../support/trunk-record';

/**
 * The answer path on the slow-segment fixture: 3 segments of ~200 ms each (one CPU thread), exit 0
 * always confident, exit 1 never, all heads fast. A parallel task is decided by the branch head
 * after segment 0, while the trunk is in the middle of segment 1.
 */
const MODEL = 'slow-segment';
const NODE = 'edge-slow';
/**
 * Bounds on the machine's own scale: half a segment of the same task (trunk time / segments run).
 * Each failure they catch costs a whole segment (~200 ms idle, more on a loaded machine, where the
 * segments stretch as well): a loop blocked by a segment, a stop that waits for the next one, an
 * answer that waits for the trunk.
 */
const halfSegmentMs = (t: { trunkMs: number; segmentsRan: number[] }) => t.trunkMs / t.segmentsRan.length / 2;

describe('answer at the first decision (slow-segment fixture, real processes)', () => {
  let system: OutletSystem;
  let records: TrunkRecords;
  let redis: Redis;
  let infer: string;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: NODE }],
    });
    records = await new TrunkRecords(system.redisUrl, MODEL).ready();
    redis = new Redis(system.redisUrl);
    infer = `${system.baseUrl}/v2/models/${MODEL}/infer`;
  });

  after(async () => {
    redis?.disconnect();
    await records?.close();
    await system?.stop();
  });

  test('parallel: the branch answer reaches the HTTP client before the segment in flight ends; no further segment starts', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await post(infer, inferBody(heldOutDigit(i, 0), { plan: 'parallel' }, `p${i}`));
      // Taken after the whole body was read: a late bound on when the answer reached the client.
      const clientGotAt = nowMs();
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const p = res.body.parameters;
      assert.equal(p.exit_worker, 'branch');
      assert.equal(p.exit_index, 0);
      const { telemetry } = await records.of(p.task_id);
      const t = JSON.stringify(telemetry);
      // The trunk took segment 1 right after handing off segment 0's feature, and could only stop
      // when that ~200 ms segment ended: the client had the answer before then.
      assert.deepEqual(telemetry.segmentsRan, [0, 1], `trunk segments: ${t}`);
      assert.ok(clientGotAt < telemetry.trunkStoppedAt, `client got the answer at ${clientGotAt.toFixed(1)}, trunk stopped at ${telemetry.trunkStoppedAt.toFixed(1)}: ${t}`);
      // Segment 1 is taken right after segment 0's hand-off, in one synchronous step where the trunk
      // cannot hear yet; a fast branch may decide inside that step, so segment 1 may count as
      // started after the decision. Nothing after it may.
      assert.ok(telemetry.segmentsAfterAnswer <= 1, `no segment beyond the one in flight started after the decision: ${t}`);
      assert.ok(telemetry.decidedAt <= clientGotAt);
      // The stop itself costs nothing beyond the segment in flight: far less than another segment.
      assert.equal(typeof telemetry.abortReactionMs, 'number', t);
      assert.ok(telemetry.abortReactionMs! < halfSegmentMs(telemetry), `abort reaction ${telemetry.abortReactionMs} ms: ${t}`);
      // From the branch's decision to the answer in the gateway: a publish away, not a segment away.
      assert.ok(p.delivery_ms >= 0 && p.delivery_ms < halfSegmentMs(telemetry), `delivery_ms ${p.delivery_ms}: ${t}`);
    }
  });

  test("the trunk's event loop stays responsive during long segments (the worker's own reports)", async () => {
    // One full task: three ~200 ms segments back to back in the trunk's model thread.
    const res = await post(infer, inferBody(heldOutDigit(5, 0), { plan: 'full' }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { telemetry } = await records.of(res.body.parameters.task_id);
    assert.deepEqual(telemetry.segmentsRan, [0, 1, 2]);
    const loopLagBoundMs = halfSegmentMs(telemetry);
    assert.ok(telemetry.eventLoopDelayMaxMs < loopLagBoundMs, `task's event-loop delay max ${telemetry.eventLoopDelayMaxMs} ms; half a segment ${loopLagBoundMs} ms`);

    // The heartbeat's own lag figure, over a whole heartbeat interval spent running segments: keep
    // the trunk busy with full tasks and watch the node's status until one interval lies inside the
    // busy time (its previous beat was also seen inside it).
    const busySince = nowMs();
    let busy = true;
    const load = (async () => {
      let n = 0;
      while (busy) {
        const r = await post(infer, inferBody(heldOutDigit(n % 10, 1), { plan: 'full' }));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        n++;
      }
    })();
    const beats = new Map<number, NodeStatus>();
    const inside: NodeStatus[] = [];
    const deadline = Date.now() + 10 * HEARTBEAT_INTERVAL_MS;
    try {
      while (inside.length === 0 && Date.now() < deadline) {
        const text = await redis.get(nodeStatusKey(NODE));
        if (text) {
          const status = JSON.parse(text) as NodeStatus;
          if (!beats.has(status.heartbeatAt)) {
            const previous = [...beats.keys()].filter((at) => at < status.heartbeatAt).sort((a, b) => b - a)[0];
            beats.set(status.heartbeatAt, status);
            if (previous !== undefined && previous >= busySince + 50) inside.push(status);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      busy = false;
      await load;
    }
    assert.ok(inside.length > 0, `no heartbeat interval seen inside the busy time; beats: ${JSON.stringify([...beats.values()])}`);
    for (const status of inside) {
      assert.equal(typeof status.eventLoopDelayMaxMs, 'number');
      assert.ok(status.eventLoopDelayMaxMs! < loopLagBoundMs, `heartbeat event-loop delay max ${status.eventLoopDelayMaxMs} ms; half a segment ${loopLagBoundMs} ms`);
    }
  });

  test('the HTTP answer, the job record and GET /v1/jobs/:id agree, for branch- and trunk-answered tasks', async () => {
    // [plan, exit that answers, worker that answers]: exit 0 is always confident, exit 1 never.
    const cases: [string, number, 'branch' | 'trunk'][] = [
      ['parallel', 0, 'branch'],
      ['serial', 0, 'trunk'],
      ['full', 2, 'trunk'],
      ['branch,trunk', 0, 'branch'],
      ['trunk,branch', 0, 'trunk'],
      ['skip,branch', 2, 'trunk'],
    ];
    for (const [plan, exit, worker] of cases) {
      const res = await post(infer, inferBody(heldOutDigit(3, 2), { plan }, `agree-${plan}`));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.parameters.exit_index, exit, plan);
      assert.equal(res.body.parameters.exit_worker, worker, plan);
      const { telemetry } = await assertViewsAgree(system.baseUrl, records, res.body, `plan ${plan}`);
      assert.ok(!telemetry.segmentsRan.includes(exit + 2), `plan ${plan}: trunk ran ${telemetry.segmentsRan}`);
    }
    // An asynchronous task (no gateway waiting) answered by the branch: its job holds that answer.
    const submitted = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...inferBody(heldOutDigit(8, 0), { plan: 'parallel' }, 'agree-async') });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const done = await waitForJob(system.baseUrl, submitted.body.id);
    assert.equal(done.state, 'completed');
    assert.equal(done.result.parameters.exit_worker, 'branch');
    assert.equal(done.result.parameters.exit_index, 0);
    const { telemetry } = await assertViewsAgree(system.baseUrl, records, done.result, 'async parallel');
    assert.ok(!telemetry.segmentsRan.includes(2), `async parallel: trunk ran ${telemetry.segmentsRan}`);
  });
});
