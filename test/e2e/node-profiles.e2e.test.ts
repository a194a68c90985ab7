import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeView } from '@outlet/contracts';
import { OutletSystem, RunningNode } from '@outlet/supervisor';
import { benchInferBody, heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post } from '../support/http';

const MODEL = 'branchy-mnist';
/** The quick protocol's bound on 2 cores (docs/offline-stage.md, "Models on many machines"), with room for two nodes profiling at once. */
const PROFILE_BOUND_MS = 120_000;

/**
 * A models folder with branchy-mnist as shipped but without its profile.json and plan tables, so
 * that no node finds stage times measured on its fingerprint in the package, and the kernel-level
 * predictor it plans with meanwhile.
 */
function unprofiledModels(root: string): string {
  const dir = join(root, 'models');
  cpSync(join(MODELS_DIR, MODEL), join(dir, MODEL), { recursive: true });
  for (const file of readdirSync(join(dir, MODEL))) {
    if (file === 'profile.json' || /^plans(-\w+)?\.json$/.test(file)) rmSync(join(dir, MODEL, file));
  }
  cpSync(join(MODELS_DIR, 'kernel-predictor.json'), join(dir, 'kernel-predictor.json'));
  return dir;
}

describe('every node profiles itself: two thread budgets, two profiles and plan tables; a third node with the first one\'s fingerprint reuses its profile', () => {
  let system: OutletSystem;
  let root: string;
  const cache = (nodeId: string) => join(root, `cache-${nodeId}`);
  const node = (nodeId: string, trunkThreads: number) => ({
    nodeId,
    env: { OUTLET_CACHE_DIR: cache(nodeId), OUTLET_TRUNK_THREADS: String(trunkThreads), OUTLET_BRANCH_THREADS: '1' },
  });

  const nodes = async (): Promise<Map<string, NodeView>> => {
    const res = await get(`${system.baseUrl}/v1/nodes`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return new Map((res.body.nodes as NodeView[]).map((n) => [n.id, n]));
  };

  /** Poll GET /v1/nodes until `ok` holds, failing after `timeoutMs` with the last rows. */
  const until = async (what: string, ok: (rows: Map<string, NodeView>) => boolean, timeoutMs = PROFILE_BOUND_MS): Promise<Map<string, NodeView>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await nodes();
      if (ok(rows)) return rows;
      assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify([...rows.values()].map((n) => ({ id: n.id, profiles: n.profiles })))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  /** Every line a process prints from now on (lines() keeps only the last 40). */
  const record = (n: RunningNode): string[] => {
    const seen = [...n.trunk.lines()];
    n.trunk.tap((line) => seen.push(line));
    return seen;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'outlet-node-profiles-'));
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: unprofiledModels(root), OUTLET_TRUNK_EP: 'cpu', OUTLET_SELF_PROFILE: 'on', OUTLET_REPLAN_RATIO: '100' },
      nodes: [node('own-a', 1), node('own-b', 2)],
    });
  });

  after(async () => {
    await system?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('each node measures its own profile (readiness not held), plans from it, and answers with its own table\'s plan', async () => {
    const logs = new Map(system.nodes.map((n) => [n.nodeId, record(n)]));
    const rows = await until('both nodes measured their own profile', (r) => ['own-a', 'own-b'].every((id) => r.get(id)?.profiles[MODEL]?.source === 'measured'));
    const a = rows.get('own-a')!;
    const b = rows.get('own-b')!;
    assert.equal(a.hardware?.trunk_threads, 1);
    assert.equal(b.hardware?.trunk_threads, 2);
    assert.notEqual(a.hardware?.id, b.hardware?.id, 'two thread budgets are two fingerprints');
    for (const n of [a, b]) {
      const p = n.profiles[MODEL];
      assert.equal(p.measured_by, n.id, 'measured by the node itself');
      assert.equal(p.measuring, false);
      assert.ok(p.measure_s !== null && p.measure_s > 0 && p.measure_s <= 60, `quick profile took ${p.measure_s} s`);
      assert.ok(p.plans.length > 0 && p.plan_at_idle !== null, 'a plan table of its own');
      assert.equal(p.plan_at_idle, p.plans[0].plan);
      const log = logs.get(n.id)!.join('\n');
      assert.match(log, /plans made again \(kernel-level predictor/, 'planned from the predictor while it measured');
      assert.match(log, /profiling 100%/, 'progress in the log');
      assert.match(log, /plans made again \(own profile \(measured/);
      assert.ok(existsSync(cache(n.id)) && readdirSync(join(cache(n.id), 'profiles')).length === 1, 'kept in its local cache');
    }

    // Answers with plan=auto carry the plan that their own node's table gives at their cpu_util.
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(i % 10, 3)))));
    const after = await nodes();
    const servedBy = new Set<string>();
    for (const res of answers) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { node_id, plan, cpu_util, plan_objective, plan_source } = res.body.parameters;
      assert.equal(plan_source, 'auto');
      servedBy.add(node_id);
      const table = after.get(node_id)!.profiles[MODEL].plans;
      // The row for cpu_util (rounded to 3 digits in the answer: a row bound within 0.001 admits both rows).
      const candidates = table.filter((r, i) => cpu_util <= r.cpu_util_max + 0.001 && (i === 0 || cpu_util >= table[i - 1].cpu_util_max - 0.001));
      const expected = candidates.map((r) => (plan_objective === 'throughput' ? r.backlog_plan : r.plan));
      assert.ok(expected.includes(plan), `${node_id} answered with ${plan} (${plan_objective}) at cpu_util ${cpu_util}; its own table gives ${expected.join(' or ')}`);
    }
    assert.deepEqual([...servedBy].sort(), ['own-a', 'own-b'], 'both nodes answered');
  });

  test('a third node with own-a\'s fingerprint reuses the profile own-a stored in Redis, without measuring', async () => {
    const before = (await nodes()).get('own-a')!.profiles[MODEL];
    const third = await system.addNode(node('own-c', 1));
    const log = record(third);
    const rows = await until('own-c found a profile', (r) => r.get('own-c')?.profiles[MODEL]?.source !== undefined && r.get('own-c')!.profiles[MODEL].source !== 'shipped', 30_000);
    const c = rows.get('own-c')!;
    assert.equal(c.hardware?.id, rows.get('own-a')!.hardware?.id, 'same fingerprint as own-a');
    const p = c.profiles[MODEL];
    assert.equal(p.source, 'stored');
    assert.equal(p.measured_by, 'own-a');
    assert.equal(p.measured_at, before.measured_at);
    assert.deepEqual(p.plans, before.plans, 'the same stage times give the same table');
    const text = log.join('\n');
    assert.doesNotMatch(text, /profiling \d+%|measuring one/, 'nothing measured');
    assert.match(text, /own profile \(stored: measured by own-a/);
  });
});

describe('a node whose segments run slower than its profile (load pinned to its core) makes its plans again from what it observes', () => {
  const BENCH = 'branchy-bench';
  let system: OutletSystem;
  let root: string;
  const hogs: ChildProcess[] = [];

  /** A 112×112 branchy-bench input: a held-out digit upscaled ×4. */
  const benchBody = (i: number) => benchInferBody(heldOutDigit(i % 10, 4), { plan: 'auto' });
  const profiles = async () => {
    const res = await get(`${system.baseUrl}/v1/nodes/pinned`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as NodeView).profiles;
  };
  const profileOf = async () => (await profiles())[BENCH];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'outlet-replan-'));
    system = await OutletSystem.start({
      quiet: true,
      // Its own profile first (or the package's, where measured on this fingerprint): the shipped
      // one may be another CPU's, and the node would rightly re-plan from that alone.
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_SELF_PROFILE: 'on', OUTLET_REPLAN_RATIO: '1.5', OUTLET_CACHE_DIR: join(root, 'cache') },
      nodes: [{ nodeId: 'pinned', trunkCpus: '0', branchCpus: '1', env: { OUTLET_TRUNK_THREADS: '1', OUTLET_BRANCH_THREADS: '1' } }],
    });
  });

  after(async () => {
    for (const hog of hogs) hog.kill('SIGKILL');
    await system?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('two busy loops pinned to the trunk\'s core: the node re-plans and says which segment ran how much slower', async (t) => {
    // Every model of the folder is profiled in turn: wait until none is measuring any more.
    const deadline = Date.now() + 3 * PROFILE_BOUND_MS;
    let all = await profiles();
    while (Object.keys(all).length === 0 || Object.values(all).some((p) => p.measuring || p.source === 'predicted')) {
      assert.ok(Date.now() < deadline, `no profiles of its own within ${3 * PROFILE_BOUND_MS} ms: ${JSON.stringify(all)}`);
      await new Promise((r) => setTimeout(r, 250));
      all = await profiles();
    }
    const profile = all[BENCH];
    const seen: string[] = [];
    system.nodes[0].trunk.tap((line) => seen.push(line));
    /** The node's re-plans for a segment so far (a head may run slower beside the trunk than alone: that re-plan is not this test's). */
    const segmentReplans = () => seen.filter((line) => /plans made again \(observed stage times at cpu_util .*segment \d+ ran/.test(line));
    // Unloaded, its segments run as profiled: 60 tasks change nothing.
    for (let i = 0; i < 60; i++) {
      const res = await post(`${system.baseUrl}/v2/models/${BENCH}/infer`, benchBody(i));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    assert.deepEqual(segmentReplans(), [], 'no segment re-plan without extra load');
    // Two separate sessions (two autogroups), both on core 0: the trunk gets a third of it.
    for (let i = 0; i < 2; i++) {
      hogs.push(spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore', detached: true }));
    }
    for (let i = 0; i < 400 && segmentReplans().length === 0; i++) {
      const res = await post(`${system.baseUrl}/v2/models/${BENCH}/infer`, benchBody(i));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const [line] = segmentReplans();
    assert.ok(line, `no segment re-plan after 400 tasks with the trunk's core loaded; log:\n${seen.slice(-10).join('\n')}`);
    const ratio = Number(/segment \d+ ran ([\d.]+)×/.exec(line)?.[1]);
    assert.ok(ratio > 1.5, `the reason names a segment slower than the bound: ${line}`);
    // GET /v1/nodes shows it from the node's next heartbeat on (or a later re-plan, once superseded).
    const sawAt = Date.now();
    const shownBy = sawAt + 10_000;
    const shown = (r: NodeView['profiles'][string]['replanned']) => r !== null && (r.reason.includes('segment') || Date.parse(r.at) >= sawAt);
    while (!shown((await profileOf()).replanned)) {
      assert.ok(Date.now() < shownBy, 'GET /v1/nodes shows the re-plan and its reason within a few heartbeats');
      await new Promise((r) => setTimeout(r, 200));
    }
    t.diagnostic(`stage times from ${profile.source}; ${line.slice(line.indexOf('plans made again'))}`);
  });
});
