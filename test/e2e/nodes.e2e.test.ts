import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { onnxruntimeVersion } from '@outlet/inference';
import { OutletSystem, appEntry } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { get, post, waitForJob } from '../support/http';
import Redis from 'ioredis';
import { GONE_AFTER_BEATS, NodeStatus, NodeView, STALE_AFTER_BEATS, nodeStatusKey } from '@outlet/contracts';

/** slow-segment: 3 segments of ~200 ms; plan 'full' keeps a task on its trunk for ~600 ms. */
const MODEL = 'slow-segment';
const NODES = ['fleet-a', 'fleet-b'];
/** A short heartbeat so that stale (> 2 periods) and gone (> 5 periods) come within a second or two. */
const HEARTBEAT_MS = 250;
/** Wide margins: the machine is shared and has two cores. */
const BOUND_MS = 20_000;

describe('the fleet view: GET /v1/nodes, draining a node, a node that dies', () => {
  let system: OutletSystem;

  const nodes = async (): Promise<Map<string, NodeView>> => {
    const res = await get(`${system.baseUrl}/v1/nodes`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return new Map((res.body.nodes as NodeView[]).map((n) => [n.id, n]));
  };

  /** Poll GET /v1/nodes until `ok` holds (then its rows), failing after `timeoutMs` with the last rows. */
  const until = async (what: string, ok: (rows: Map<string, NodeView>) => boolean, timeoutMs = BOUND_MS): Promise<Map<string, NodeView>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await nodes();
      if (ok(rows)) return rows;
      assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify([...rows.values()])}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const submit = async (i: number): Promise<string> => {
    const res = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...inferBody(heldOutDigit(i % 10, 2), { plan: 'full' }) });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.id;
  };

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_HEARTBEAT_MS: String(HEARTBEAT_MS), OUTLET_TRUNK_THREADS: '1', OUTLET_BRANCH_THREADS: '1' },
      nodes: NODES.map((nodeId) => ({ nodeId })),
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('lists both nodes live with their models, provider, threads, CPU, heartbeat age, tasks and branch workers; the CLI prints them', async () => {
    // The trunk's fingerprint names its branch worker's threads once it has heard it (its next beat).
    const rows = await until('both nodes live with a branch worker in their fingerprint', (r) =>
      NODES.every((id) => r.get(id)?.status === 'live' && r.get(id)!.branch_workers.length === 1 && r.get(id)!.hardware?.branch_threads === 1),
    );
    for (const id of NODES) {
      const n = rows.get(id)!;
      assert.ok(n.models.includes(MODEL), JSON.stringify(n));
      assert.equal(n.trunk_ep, 'cpu');
      assert.deepEqual(n.threads, { trunk: 1, branch: 1 });
      // The hardware fingerprint: this machine's CPU, the node's provider and thread budgets.
      const hw = n.hardware!;
      assert.match(hw?.id ?? '', /^[0-9a-f]{12}$/, JSON.stringify(n));
      assert.deepEqual(
        [hw.cpu_model, hw.cores, hw.trunk_ep, hw.trunk_threads, hw.onnxruntime],
        [cpus()[0].model.trim(), cpus().length, 'cpu', 1, onnxruntimeVersion()],
      );
      assert.ok(['amx', 'avx512', 'avx2', 'avx', 'sse4', 'neon', 'none'].includes(hw.isa), hw.isa);
      assert.ok(typeof n.cpu_util === 'number' && n.cpu_util >= 0 && n.cpu_util <= 1, JSON.stringify(n));
      assert.ok(n.heartbeat_age_ms >= 0 && n.heartbeat_age_ms <= 2 * HEARTBEAT_MS, JSON.stringify(n));
      assert.equal(n.tasks_in_flight, 0);
      assert.equal(n.branch_workers[0].threads, 1);
      assert.equal(n.drain_ordered, false);
      assert.equal(n.left, null);
      assert.equal(n.pid, system.nodes.find((s) => s.nodeId === id)!.trunk.pid);
    }
    assert.equal(new Set(NODES.map((id) => rows.get(id)!.hardware!.id)).size, 1, 'two nodes alike on one machine: one fingerprint');
    const one = await get(`${system.baseUrl}/v1/nodes/${NODES[0]}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, NODES[0]);

    const unknown = await get(`${system.baseUrl}/v1/nodes/no-such-node`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /no node 'no-such-node'/);
    const drainUnknown = await post(`${system.baseUrl}/v1/nodes/no-such-node/drain`);
    assert.equal(drainUnknown.status, 404);
    assert.match(drainUnknown.body.error, /no node 'no-such-node'/);

    const row = (id: string) => new RegExp(`^${id} +live +\\S*${MODEL}\\S* +cpu +1/1 +[0-9a-f]{12} \\(.+, \\d+ cores, onnxruntime .+\\) +shipped \\d+ +\\d+% +\\d+\\.\\ds ago +0 +1$`, 'm');
    // A node shows "stale" while a heartbeat is late (over 2 × 250 ms here, as a loaded machine can
    // make it): run the command again until both rows show "live".
    const deadline = Date.now() + BOUND_MS;
    for (;;) {
      const cli = spawnSync(process.execPath, [appEntry('cli'), 'nodes', '--url', system.baseUrl], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout.trim().split('\n')[0], /^NODE +STATUS +MODELS +EP +THREADS T\/B +HARDWARE +PROFILES +CPU +HEARTBEAT +TASKS +BRANCH WORKERS$/);
      const stale = NODES.some((id) => new RegExp(`^${id} +stale `, 'm').test(cli.stdout));
      if (!stale || Date.now() > deadline) {
        for (const id of NODES) assert.match(cli.stdout, row(id));
        break;
      }
    }
  });

  test('a node drained with a task in flight shows draining, answers that task, takes no new one, exits 0 and shows gone', async () => {
    const [drained, other] = NODES;
    const victim = system.nodes.find((n) => n.nodeId === drained)!;
    // Tasks for both trunks (concurrency 1, ~600 ms each), until the drained node reports one in flight.
    const before: string[] = [];
    for (let i = 0; i < 4; i++) before.push(await submit(i));
    await until(`${drained} holds a task`, (r) => (r.get(drained)?.tasks_in_flight ?? 0) > 0);

    const order = await post(`${system.baseUrl}/v1/nodes/${drained}/drain`);
    assert.equal(order.status, 202, JSON.stringify(order.body));
    assert.equal(order.body.drain_ordered, true);
    const drainedAt = Date.now();
    const seen = await until(`${drained} draining`, (r) => r.get(drained)?.status === 'draining');
    assert.ok((seen.get(drained)!.tasks_in_flight ?? 0) <= 1, 'concurrency 1');

    // From now on every new task is the other node's.
    const afterDrain: string[] = [];
    for (let i = 0; i < 3; i++) afterDrain.push(await submit(10 + i));

    assert.equal(await raceExit(victim.trunk.exited, BOUND_MS), 0, `trunk exit code:\n${victim.trunk.lines().slice(-8).join('\n')}`);
    assert.equal(await raceExit(victim.branch.exited, BOUND_MS), 0, `branch exit code:\n${victim.branch.lines().slice(-8).join('\n')}`);
    assert.ok(victim.trunk.lines().some((l) => /drain ordered/.test(l)), 'the trunk logged the order');

    const results = await Promise.all([...before, ...afterDrain].map((id) => waitForJob(system.baseUrl, id, 60_000)));
    assert.deepEqual(results.filter((r) => r.state !== 'completed'), [], 'no accepted task is lost');
    const answeredBy = (r: any) => r.result.parameters.node_id;
    assert.ok(results.slice(0, before.length).some((r) => answeredBy(r) === drained), 'the drained node answered the task it held');
    assert.deepEqual(results.slice(before.length).map(answeredBy), afterDrain.map(() => other), 'tasks sent after the drain went to the other node');

    const rows = await until(`${drained} gone, ${other} live`, (r) => r.get(drained)?.status === 'gone' && r.get(other)?.status === 'live');
    const gone = rows.get(drained)!;
    assert.equal(gone.left, 'drained');
    assert.equal(gone.tasks_in_flight, 0);
    assert.deepEqual(gone.branch_workers, [], 'its branch worker left too');
    assert.equal(gone.drain_ordered, false, 'the order is spent');
    assert.ok(Date.now() - drainedAt < BOUND_MS);

    const again = await post(`${system.baseUrl}/v1/nodes/${drained}/drain`);
    assert.equal(again.status, 409);
    assert.match(again.body.error, new RegExp(`node '${drained}' is gone \\(it left: drained\\)`));
    // The model is still served, by the other node.
    assert.equal((await get(`${system.baseUrl}/v2/models/${MODEL}/ready`)).status, 200);
  });

  test('a node whose workers are killed (SIGKILL) shows stale, then gone', async () => {
    const id = NODES[1];
    const node = system.nodes.find((n) => n.nodeId === id)!;
    await until(`${id} live`, (r) => r.get(id)?.status === 'live');
    await Promise.all([node.trunk.stop('SIGKILL'), node.branch.stop('SIGKILL')]);
    // The silence is measured from the node's last heartbeat as stored in Redis (the trunk is dead:
    // nothing writes it again), not from when the kill returned: that beat may precede the kill by
    // up to a period, or land just before it.
    const redis = new Redis(system.redisUrl);
    let lastBeatAt: number;
    try {
      const stored = JSON.parse((await redis.get(nodeStatusKey(id)))!) as NodeStatus;
      lastBeatAt = stored.heartbeatAt;
    } finally {
      redis.disconnect();
    }
    // Every poll's status beside the age the gateway judged it by, and the test's own clock after the answer.
    const seen: { status: string; ageMs: number; seenAt: number }[] = [];
    const rows = await until(`${id} gone`, (r) => {
      const row = r.get(id);
      seen.push({ status: row?.status ?? 'absent', ageMs: row?.heartbeat_age_ms ?? NaN, seenAt: Date.now() });
      return row?.status === 'gone';
    });
    const states = seen.map((s) => s.status).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    assert.ok(states.includes('stale'), `seen ${states.join(' → ')}`);
    assert.deepEqual(states.slice(states.indexOf('stale')), ['stale', 'gone']);
    // The documented rule, on the age since the stored last beat: stale after 2 silent periods, gone after 5.
    for (const s of seen) {
      if (s.status === 'stale') assert.ok(s.ageMs > STALE_AFTER_BEATS * HEARTBEAT_MS && s.ageMs <= GONE_AFTER_BEATS * HEARTBEAT_MS, JSON.stringify(s));
      if (s.status === 'gone') assert.ok(s.ageMs > GONE_AFTER_BEATS * HEARTBEAT_MS, JSON.stringify(s));
    }
    // Never gone before 5 silent periods: the gateway's clock judged it before the test saw the answer.
    const goneSeen = seen.at(-1)!;
    assert.ok(goneSeen.seenAt - lastBeatAt > GONE_AFTER_BEATS * HEARTBEAT_MS, `gone ${goneSeen.seenAt - lastBeatAt} ms after the last heartbeat`);
    // ...and gone within the bound (a safety limit for a loaded machine, far above the 1.25 s expected).
    assert.ok(goneSeen.seenAt - lastBeatAt < BOUND_MS, `gone only ${goneSeen.seenAt - lastBeatAt} ms after the last heartbeat`);
    const gone = rows.get(id)!;
    assert.equal(gone.left, null, 'it did not leave on purpose');
    assert.equal((await get(`${system.baseUrl}/v2/models/${MODEL}/ready`)).status, 503, 'no node serves the model any more');
  });
});

/** A process's exit code, or a failure if it has not exited within `ms`. */
async function raceExit(exited: Promise<number | null>, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms`)), ms)));
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
