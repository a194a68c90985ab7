import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { branchQueueName, inferQueueName, inputKey, queuePrefix } from '@outlet/contracts';
import { OutletSystem, PrivateCluster, PrivateRedis, PrivateSentinelSet, startPrivateCluster, startPrivateSentinelSet } from '@outlet/supervisor';
import { benchInferBody, heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post } from '../support/http';

const MODELS = ['branchy-mnist', 'residual-exits'];
const NODES = ['cl-a', 'cl-b'];
/** Every model MODELS_DIR serves: the kill under load sends tasks of all three. */
const ALL_MODELS = [...MODELS, 'branchy-bench'];

/** A held-out digit as `model` takes it (branchy-bench: upscaled to 112×112). */
function taskBody(model: string, label: number, nth: number) {
  return model === 'branchy-bench' ? benchInferBody(heldOutDigit(label, nth)) : inferBody(heldOutDigit(label, nth));
}

/** A sync caller's deadline (OUTLET_INFER_TIMEOUT_MS): it gets its answer or an error by then, never hangs. */
const INFER_TIMEOUT_MS = 20_000;

/** The slot a key hashes to (its hash tag), as the cluster computes it. */
function slotOf(port: number, key: string): number {
  return Number(execFileSync('redis-cli', ['-p', String(port), 'cluster', 'keyslot', key], { encoding: 'utf8' }).trim());
}

/**
 * Async tasks of the three models (and sync callers of the first) at ~20/s; after 40, kill -9 `victim`.
 * Every accepted task must complete, refusals are 503 only, no sync caller waits past its deadline,
 * and `current()` must name another server. Returns a line of figures.
 */
async function killUnderLoad(system: OutletSystem, victim: PrivateRedis, current: () => Promise<PrivateRedis>): Promise<string> {
  const accepted: { id: string; model: string; at: number }[] = [];
  const syncResults: { status: number; ms: number; started: number; ended: number }[] = [];
  let killedAt = 0;
  const sync: Promise<void>[] = [];
  for (let i = 0; i < 120; i++) {
    if (i === 40) {
      killedAt = Date.now();
      await victim.server.stop('SIGKILL');
    }
    const model = ALL_MODELS[i % ALL_MODELS.length];
    const res = await post(`${system.baseUrl}/v1/jobs`, { model, ...taskBody(model, i % 10, 3) }).catch(() => ({ status: 0, body: {} as any }));
    if (res.status === 202) accepted.push({ id: res.body.id, model, at: Date.now() });
    else assert.ok(res.status === 503 || res.status === 0, `refused with ${res.status}: ${JSON.stringify(res.body)}`);
    if (i % 5 === 2) {
      // Sync callers of the model whose queue's server is killed.
      const started = Date.now();
      sync.push(post(`${system.baseUrl}/v2/models/${MODELS[0]}/infer`, inferBody(heldOutDigit(i % 10, 4))).then((r) => void syncResults.push({ status: r.status, ms: Date.now() - started, started, ended: Date.now() })));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(sync);
  for (const r of syncResults) {
    assert.ok([200, 503, 504].includes(r.status), `sync caller got ${r.status}`);
    assert.ok(r.ms <= INFER_TIMEOUT_MS + 5_000, `a sync caller waited ${r.ms} ms, past its deadline`);
  }
  // Recovery: from the kill to the first answer to a sync caller of that model who came after it.
  const recoveryMs = Math.min(...syncResults.filter((r) => r.status === 200 && r.started > killedAt).map((r) => r.ended - killedAt));
  assert.ok(Number.isFinite(recoveryMs), `no sync caller of ${MODELS[0]} was answered after the kill`);
  for (const job of accepted) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await get(`${system.baseUrl}/v1/jobs/${job.id}`);
      if (res.status === 200 && res.body.state === 'completed') break;
      assert.ok(Date.now() < deadline, `accepted job ${job.id} (${job.at - killedAt} ms after the kill) not completed: ${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const after = accepted.filter((j) => j.at > killedAt).length;
  assert.ok(after > 0, 'tasks were accepted after the kill');
  for (const model of ALL_MODELS) assert.ok(accepted.some((j) => j.model === model), `no task of ${model} was accepted`);
  const promoted = await current();
  assert.notEqual(promoted.port, victim.port, 'a replica serves now');
  return `${accepted.length} tasks accepted (${after} after the kill), all completed; recovery (kill → first answer to a later sync caller of ${MODELS[0]}) ${recoveryMs} ms; sync: ${syncResults.map((r) => `${r.status}/${r.ms}ms`).join(' ')}; ${victim.port} → ${promoted.port}`;
}

/** Two nodes serving MODELS_DIR on `redisUrl` (OUTLET_TEST_VERBOSE=1 shows their output). */
function systemOn(redisUrl: string): Promise<OutletSystem> {
  return OutletSystem.start({
    quiet: !process.env.OUTLET_TEST_VERBOSE,
    redisUrl,
    env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_INFER_TIMEOUT_MS: String(INFER_TIMEOUT_MS) },
    nodes: NODES.map((nodeId) => ({ nodeId })),
  });
}

describe('a real Redis Cluster (3 masters, 3 replicas): the whole system on it, and a master killed under load', () => {
  let cluster: PrivateCluster;
  let system: OutletSystem;

  before(async () => {
    cluster = await startPrivateCluster({ masters: 3, replicas: 1 });
    system = await systemOn(cluster.target);
  });

  after(async () => {
    await system?.stop();
    await cluster?.stop();
  });

  test('queues and task keys spread over the masters; sync and async tasks of two models are answered on two nodes', async () => {
    const port = cluster.servers[0].port;
    const tags = [...MODELS.map((m) => `${queuePrefix(inferQueueName(m))}:wait`), ...NODES.map((n) => `${queuePrefix(branchQueueName(n))}:wait`), ...Array.from({ length: 12 }, (_, i) => inputKey(`t${i}`))];
    const masters = new Set<number>();
    for (const key of tags) masters.add((await cluster.masterOf(slotOf(port, key))).port);
    assert.ok(masters.size >= 2, `keys of several queues and tasks on ${masters.size} master(s)`);

    const sync = await Promise.all(Array.from({ length: 16 }, (_, i) => post(`${system.baseUrl}/v2/models/${MODELS[i % 2]}/infer`, inferBody(heldOutDigit(i % 10, 1)))));
    for (const res of sync) assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(new Set(sync.map((r) => r.body.parameters.node_id)).size, 2, 'both nodes answered');
    const ids = [];
    for (let i = 0; i < 8; i++) {
      const res = await post(`${system.baseUrl}/v1/jobs`, { model: MODELS[i % 2], ...inferBody(heldOutDigit(i % 10, 2)) });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      ids.push(res.body.id as string);
    }
    for (const id of ids) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await get(`${system.baseUrl}/v1/jobs/${id}`);
        if (job.body.state === 'completed') break;
        assert.ok(Date.now() < deadline, `job ${id} not completed: ${JSON.stringify(job.body)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  test('kill -9 of the master holding a model\'s queue under load: its replica takes over, no accepted task is lost, sync callers never hang', async (t) => {
    const port = cluster.servers[0].port;
    const slot = slotOf(port, `${queuePrefix(inferQueueName(MODELS[0]))}:wait`);
    t.diagnostic(await killUnderLoad(system, await cluster.masterOf(slot), () => cluster.masterOf(slot)));
  });
});

describe('a real Sentinel set (a primary, a replica, 3 Sentinels): the whole system on it, and the primary killed under load', () => {
  let sentinels: PrivateSentinelSet;
  let system: OutletSystem;

  before(async () => {
    sentinels = await startPrivateSentinelSet({ replicas: 1, sentinels: 3 });
    system = await systemOn(sentinels.target);
  });

  after(async () => {
    await system?.stop();
    await sentinels?.stop();
  });

  test('kill -9 of the primary under load: the Sentinels promote the replica, no accepted task is lost, sync callers never hang', async (t) => {
    t.diagnostic(await killUnderLoad(system, await sentinels.primary(), () => sentinels.primary()));
  });
});

describe('OUTLET_REDIS_WAIT_REPLICAS: a task counts as accepted once that many replicas hold it', () => {
  let sentinels: PrivateSentinelSet;
  let system: OutletSystem;

  before(async () => {
    sentinels = await startPrivateSentinelSet({ replicas: 1, sentinels: 3 });
    system = await OutletSystem.start({
      quiet: true,
      redisUrl: sentinels.target,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_REDIS_WAIT_MS: '500' },
      gatewayEnv: { OUTLET_REDIS_WAIT_REPLICAS: '1' },
      nodes: [{ nodeId: 'wait-a' }],
    });
  });

  after(async () => {
    await system?.stop();
    await sentinels?.stop();
  });

  test('with its one replica up, tasks are accepted and answered; with it stopped, 503 names the setting and Retry-After', async () => {
    const ok = await post(`${system.baseUrl}/v2/models/${MODELS[0]}/infer`, inferBody(heldOutDigit(1, 5)));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const job = await post(`${system.baseUrl}/v1/jobs`, { model: MODELS[1], ...inferBody(heldOutDigit(2, 5)) });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    await sentinels.servers[1].server.stop('SIGKILL');
    const refused = await post(`${system.baseUrl}/v1/jobs`, { model: MODELS[1], ...inferBody(heldOutDigit(3, 5)) });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.match(refused.body.error, /0 of 1 replica\(s\) confirmed it within 500 ms \(OUTLET_REDIS_WAIT_REPLICAS\)/);
    assert.equal(refused.headers.get('retry-after'), '1');
  });
});

describe('a password-protected cluster: every process authenticates with REDIS_PASSWORD', () => {
  let cluster: PrivateCluster;
  let system: OutletSystem;

  before(async () => {
    cluster = await startPrivateCluster({ masters: 3, replicas: 0, password: 's3cret pass' });
    system = await OutletSystem.start({
      quiet: true,
      redisUrl: cluster.target,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'auth-a' }],
    });
  });

  after(async () => {
    await system?.stop();
    await cluster?.stop();
  });

  test('sync and async tasks are answered; the password is never in a log line', async () => {
    assert.match(cluster.target, /^redis\+cluster:\/\/:s3cret%20pass@/);
    const res = await post(`${system.baseUrl}/v2/models/${MODELS[0]}/infer`, inferBody(heldOutDigit(7, 6)));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const job = await post(`${system.baseUrl}/v1/jobs`, { model: MODELS[1], ...inferBody(heldOutDigit(8, 6)) });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    const deadline = Date.now() + 20_000;
    while ((await get(`${system.baseUrl}/v1/jobs/${job.body.id}`)).body.state !== 'completed') {
      assert.ok(Date.now() < deadline, 'the job completes');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const p of system.processes()) assert.ok(!p.lines().some((l) => l.includes('s3cret')), `${p.spec.name} logs no password`);
  });
});
