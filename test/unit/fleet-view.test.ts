import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GONE_NODE_KEPT_MS, NodeStatus, parseNodeStatus } from '@outlet/contracts';
import { readTrunkSettings, subjobLockOptions } from '@outlet/config';
import { isListed, nodeState, nodeView } from '../../apps/gateway/src/fleet-view';
import { nodesTable } from '../../apps/cli/src/commands/nodes';

const NOW = 1_000_000_000;
const status = (over: Partial<NodeStatus> = {}): NodeStatus => ({
  nodeId: 'edge-1',
  models: ['branchy-mnist'],
  trunkEp: 'cpu',
  trunkThreads: 2,
  cpuUtil: 0.25,
  tasksInFlight: 1,
  pid: 42,
  heartbeatAt: NOW - 100,
  heartbeatMs: 1000,
  ...over,
});

test('a node is live, then stale after 2 missed heartbeat periods, then gone after 5, judged by its own period', () => {
  assert.equal(nodeState(status({ heartbeatAt: NOW - 2000 }), NOW), 'live');
  assert.equal(nodeState(status({ heartbeatAt: NOW - 2001 }), NOW), 'stale');
  assert.equal(nodeState(status({ heartbeatAt: NOW - 5000 }), NOW), 'stale');
  assert.equal(nodeState(status({ heartbeatAt: NOW - 5001 }), NOW), 'gone');
  assert.equal(nodeState(status({ heartbeatAt: NOW - 2001, heartbeatMs: 2000 }), NOW), 'live');
  // A status without its period (an older node) is judged by the default, 2 s.
  assert.equal(nodeState(status({ heartbeatAt: NOW - 4001, heartbeatMs: undefined }), NOW), 'stale');
});

test('draining while heartbeats come; a node that left is gone at once; gone nodes are dropped after GONE_NODE_KEPT_MS', () => {
  assert.equal(nodeState(status({ draining: true }), NOW), 'draining');
  assert.equal(nodeState(status({ draining: true, heartbeatAt: NOW - 3000 }), NOW), 'stale', 'silence outranks draining');
  assert.equal(nodeState(status({ leftAt: NOW - 10, leftBecause: 'drained' }), NOW), 'gone');
  assert.equal(isListed(status({ heartbeatAt: NOW - GONE_NODE_KEPT_MS }), NOW), true);
  assert.equal(isListed(status({ heartbeatAt: NOW - GONE_NODE_KEPT_MS - 1 }), NOW), false);
  assert.equal(isListed(status({ heartbeatAt: NOW - GONE_NODE_KEPT_MS - 1, leftAt: NOW - 1000 }), NOW), true, 'kept from when it left');
});

test('the view: branch workers with a current heartbeat (threads summed), garbage and dead ones left out', () => {
  const hash = {
    'host:1': JSON.stringify({ at: NOW - 500, threads: 2, heartbeatMs: 1000 }),
    'host:2': JSON.stringify({ at: NOW - 6000, threads: 4, heartbeatMs: 1000 }),
    'host:3': JSON.stringify({ at: NOW - 100, threads: 1, heartbeatMs: 1000, draining: true }),
    'host:4': '1700000000000',
    'host:5': 'not json',
  };
  const v = nodeView(status(), hash, true, NOW);
  assert.equal(v.status, 'live');
  assert.deepEqual(v.threads, { trunk: 2, branch: 3 });
  assert.deepEqual(v.branch_workers.map((w) => [w.id, w.threads, w.heartbeat_age_ms, w.draining]), [
    ['host:1', 2, 500, false],
    ['host:3', 1, 100, true],
  ]);
  assert.equal(v.drain_ordered, true);
  assert.equal(v.tasks_in_flight, 1);
  assert.equal(v.left, null);
  const gone = nodeView(status({ heartbeatAt: NOW - 60_000 }), {}, false, NOW);
  assert.deepEqual([gone.status, gone.tasks_in_flight, gone.threads.branch, gone.heartbeat_age_ms], ['gone', 0, null, 60_000]);
});

test('a status value that is not a status is skipped, not a failure of the whole list', () => {
  assert.deepEqual(parseNodeStatus(JSON.stringify(status())), status());
  for (const bad of [null, '', 'not json', 'null', '42', '{"nodeId":"x"}', '{"nodeId":"x","heartbeatAt":1,"models":"m"}']) {
    assert.equal(parseNodeStatus(bad), undefined, String(bad));
  }
});

test('outlet nodes prints one aligned row per node', () => {
  const hardware = { id: 'a1b2c3d4e5f6', cpuModel: 'AMD EPYC 7B13', isa: 'avx2', cores: 2, trunkEp: 'cpu', trunkThreads: 2, onnxruntime: '1.30.0' };
  const rows = [
    nodeView(status(), {}, false, NOW),
    nodeView(status({ nodeId: 'edge-22', leftAt: NOW, leftBecause: 'drained', cpuUtil: undefined }), {}, false, NOW),
    nodeView(status({ nodeId: 'edge-3', hardware, profiles: { 'branchy-mnist': { source: 'stored', measuring: false, measuredBy: 'edge-1', planAtIdle: 'trunk,trunk', plans: [{ cpuUtilMax: 1, plan: 'trunk,trunk', backlogPlan: 'skip,skip' }] } } }), {}, false, NOW),
  ];
  assert.deepEqual(rows[2].profiles['branchy-mnist'], {
    source: 'stored', measuring: false, measured_by: 'edge-1', measured_at: null, measure_s: null, plan_at_idle: 'trunk,trunk',
    plans: [{ cpu_util_max: 1, plan: 'trunk,trunk', backlog_plan: 'skip,skip' }], replanned: null, error: null,
  });
  assert.deepEqual(rows[0].profiles, {}, 'a node that reports none');
  assert.deepEqual(rows[2].hardware, { id: 'a1b2c3d4e5f6', cpu_model: 'AMD EPYC 7B13', isa: 'avx2', cores: 2, trunk_ep: 'cpu', trunk_threads: 2, onnxruntime: '1.30.0' });
  assert.equal(rows[0].hardware, null, 'a node that does not report one');
  const lines = nodesTable(rows).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[1], /^edge-1 +live +branchy-mnist +cpu +2\/- +- +- +25% +0\.1s ago +1 +0$/);
  assert.match(lines[2], /^edge-22 +gone \(drained\) +branchy-mnist +cpu +2\/- +- +- +- +0\.1s ago +0 +0$/);
  assert.match(lines[3], /^edge-3 +live +branchy-mnist +cpu +2\/- +a1b2c3d4e5f6 \(AMD EPYC 7B13, avx2, 2 cores, onnxruntime 1\.30\.0\) +stored 1 +25% /);
  assert.equal(lines[0].indexOf('STATUS'), lines[1].indexOf('live'), 'columns line up');
});

test('OUTLET_HEARTBEAT_MS is a node setting (default 2000); subjobs never run twice after a stall', () => {
  assert.equal(readTrunkSettings({ NODE_ID: 'n' }, 2).heartbeatMs, 2000);
  assert.equal(readTrunkSettings({ NODE_ID: 'n', OUTLET_HEARTBEAT_MS: '250' }, 2).heartbeatMs, 250);
  assert.throws(() => readTrunkSettings({ NODE_ID: 'n', OUTLET_HEARTBEAT_MS: '10' }, 2), /OUTLET_HEARTBEAT_MS/);
  assert.equal(subjobLockOptions(4000).maxStalledCount, 0);
  assert.equal(subjobLockOptions(4000).lockDuration, 4000);
});
