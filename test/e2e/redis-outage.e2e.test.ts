import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { HttpResult, get, post, request } from '../support/http';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

/** slow-segment: 3 segments of ~200 ms; plan 'full' runs all three on the trunk (~600 ms a task). */
const MODEL = 'slow-segment';
const JOBS = 6;
/** The bound for a refusal while Redis is away (the gateway aims at ~1 s at most). */
const REFUSAL_BOUND_MS = 2_000;
/**
 * How long Redis stays away: longer than a job lock (OUTLET_LOCK_MS, 4 s), so the task in flight
 * loses its lock and BullMQ must run it again; that re-run needs the task's input still there.
 */
const OUTAGE_MS = 6_000;
/** How long everything may take to come back after Redis does (ioredis retries every 2 s at most). */
const RECOVERY_BOUND_MS = 60_000;

const body = (i: number) => inferBody(heldOutDigit(i, 3), { plan: 'full' }, `outage-${i}`);

/** Poll until `check` gives a value, or fail with `what` after `ms`. */
async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A job's record once it is finished; 503s (Redis not back yet at the gateway) and waiting states are polled through. */
async function finishedJob(baseUrl: string, id: string): Promise<any> {
  return eventually(`job ${id} finished`, RECOVERY_BOUND_MS, async () => {
    const res = await get(`${baseUrl}/v1/jobs/${id}`);
    if (res.status === 503) return undefined;
    assert.equal(res.status, 200, `GET /v1/jobs/${id}: ${JSON.stringify(res.body)}`);
    return res.body.state === 'completed' || res.body.state === 'failed' ? res.body : undefined;
  });
}

/** A refusal for Redis: 503 with a Retry-After of whole seconds, within REFUSAL_BOUND_MS; its error names Redis (and `why`). */
async function assertRefusedFast(what: string, send: () => Promise<HttpResult>, why = /Redis/): Promise<number> {
  const started = nowMs();
  const res = await send();
  const ms = nowMs() - started;
  assert.equal(res.status, 503, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.match(String(res.body.error), /Redis/, `${what}: the error names Redis`);
  assert.match(String(res.body.error), why, `${what}: ${res.body.error}`);
  assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, `${what}: Retry-After in seconds`);
  assert.ok(ms < REFUSAL_BOUND_MS, `${what}: answered after ${ms.toFixed(0)} ms`);
  return ms;
}

describe('a Redis outage: kill -9 of a Redis with an append-only file, then a restart', () => {
  let system: OutletSystem;
  let dataDir: string;
  let featureRoot: string;
  let client: grpc.Client;
  const logs = new Map<string, string[]>();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'outlet-redis-data-'));
    featureRoot = mkdtempSync(join(tmpdir(), 'outlet-outage-'));
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_DIR: featureRoot },
      nodes: [{ nodeId: 'outage' }],
      redis: { dataDir },
    });
    for (const p of system.processes()) {
      const lines: string[] = [];
      logs.set(p.spec.name, lines);
      p.tap((line) => lines.push(line));
    }
    client = new (loadGrpcInferenceService())(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await system?.stop();
    for (const dir of [dataDir, featureRoot]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('requests are refused fast while Redis is away; every accepted job is answered once it is back', async (t) => {
    const base = system.baseUrl;
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const res = await post(`${base}/v1/jobs`, { model: MODEL, ...body(i) });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    // A synchronous caller already waiting when Redis goes (its task is queued behind the jobs).
    const waitingCaller = post(`${base}/v2/models/${MODEL}/infer`, body(JOBS));
    const queued = (await get(`${base}/v1/jobs/${ids[JOBS - 1]}`)).body.state;
    assert.equal(queued, 'waiting', 'the last job is still queued when Redis is killed');

    const redis = system.privateRedis!;
    redis.server.child.kill('SIGKILL');
    await redis.server.exited;
    const killedAt = nowMs();

    const refusals = {
      infer: await assertRefusedFast('POST infer', () => post(`${base}/v2/models/${MODEL}/infer`, body(0))),
      inferVersion: await assertRefusedFast('POST versions/1/infer', () => post(`${base}/v2/models/${MODEL}/versions/1/infer`, body(0))),
      submit: await assertRefusedFast('POST /v1/jobs', () => post(`${base}/v1/jobs`, { model: MODEL, ...body(0) })),
      status: await assertRefusedFast('GET /v1/jobs/:id', () => get(`${base}/v1/jobs/${ids[0]}`)),
    };
    t.diagnostic(`refusals while Redis is away (ms): ${JSON.stringify(Object.fromEntries(Object.entries(refusals).map(([k, v]) => [k, Math.round(v)])))}`);

    const grpcStarted = nowMs();
    const grpcError = await new Promise<grpc.ServiceError | null>((resolve) =>
      (client as any).ModelInfer(
        { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 28, 28], contents: { fp32_contents: heldOutDigit(0, 3) } }] },
        { deadline: Date.now() + 30_000 },
        (err: grpc.ServiceError | null) => resolve(err),
      ),
    );
    assert.equal(grpcError?.code, grpc.status.UNAVAILABLE, `gRPC ModelInfer: ${grpcError?.details}`);
    assert.ok(nowMs() - grpcStarted < REFUSAL_BOUND_MS, `gRPC ModelInfer answered after ${(nowMs() - grpcStarted).toFixed(0)} ms`);

    assert.equal((await get(`${base}/v2/health/ready`)).status, 503, 'server readiness while Redis is away');
    const modelReady = await get(`${base}/v2/models/${MODEL}/ready`);
    assert.equal(modelReady.status, 503, `model readiness while Redis is away: ${JSON.stringify(modelReady.body)}`);
    assert.equal((await get(`${base}/v2/health/live`)).status, 200, 'liveness while Redis is away');

    // Every process says, once, that it lost Redis; none exits.
    for (const [name, lines] of logs) {
      await eventually(`${name} logs the loss of Redis`, 10_000, () => (lines.some((l) => l.includes('lost Redis at')) ? true : undefined));
    }
    for (const p of system.processes()) assert.ok(p.running, `${p.spec.name} still runs while Redis is away`);

    // The outage's length is the scenario (see OUTAGE_MS), not a wait for something to happen.
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (nowMs() - killedAt))));
    const restartedAt = nowMs();
    await redis.restart();

    const jobs = await Promise.all(ids.map((id) => finishedJob(base, id)));
    for (const job of jobs) assert.equal(job.state, 'completed', `accepted job answered after the outage: ${JSON.stringify(job)}`);
    const waited = await waitingCaller;
    assert.equal(waited.status, 200, `the caller waiting through the outage is answered: ${JSON.stringify(waited.body)}`);
    const fresh = await eventually('a new synchronous request served', RECOVERY_BOUND_MS, async () => {
      const res = await post(`${base}/v2/models/${MODEL}/infer`, body(JOBS + 1));
      return res.status === 503 ? undefined : res;
    });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    t.diagnostic(`after the restart: ${JOBS} jobs and the waiting caller answered, a new request served ${(nowMs() - restartedAt).toFixed(0)} ms later`);
    assert.equal((await request('GET', `${base}/v2/health/ready`)).status, 200, 'ready again');

    // One line when lost, one when back, and no error stacks, in every process.
    for (const [name, lines] of logs) {
      await eventually(`${name} logs that Redis is back`, 10_000, () => (lines.some((l) => l.includes('is back after')) ? true : undefined));
      assert.equal(lines.filter((l) => l.includes('lost Redis at')).length, 1, `${name}: one "lost" line:\n${lines.join('\n')}`);
      assert.equal(lines.filter((l) => l.includes('is back after')).length, 1, `${name}: one "back" line:\n${lines.join('\n')}`);
      const noise = lines.filter((l) => /Unhandled error event|ECONNREFUSED|^\s+at /.test(l) && !l.includes('lost Redis at'));
      assert.deepEqual(noise, [], `${name}: no error stacks or repeated connection errors`);
    }
    for (const p of system.processes()) assert.ok(p.running, `${p.spec.name} still runs after the outage`);
  });

  test('a Redis that keeps its connections but does not answer (SIGSTOP): 503 after about 1 s; served again after SIGCONT', async (t) => {
    const base = system.baseUrl;
    const server = system.privateRedis!.server;
    server.child.kill('SIGSTOP');
    const ms: Record<string, number> = {};
    try {
      // The connection stayed ready: these were refused by the deadline, not at once (the error says which).
      const byDeadline = /Redis did not answer within \d+ ms/;
      ms.infer = await assertRefusedFast('POST infer', () => post(`${base}/v2/models/${MODEL}/infer`, body(0)), byDeadline);
      ms.status = await assertRefusedFast('GET /v1/jobs/:id', () => get(`${base}/v1/jobs/no-such-job`), byDeadline);
      const readyStarted = nowMs();
      const ready = await get(`${base}/v2/health/ready`);
      ms.ready = nowMs() - readyStarted;
      assert.equal(ready.status, 503, 'server readiness');
      assert.match(String(ready.body.error), byDeadline, 'server readiness');
    } finally {
      server.child.kill('SIGCONT');
    }
    t.diagnostic(`refusals while Redis is stopped (ms): ${JSON.stringify(Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])))}`);
    const served = await eventually('served again after SIGCONT', 10_000, async () => {
      const res = await post(`${base}/v2/models/${MODEL}/infer`, body(1));
      return res.status === 503 ? undefined : res;
    });
    assert.equal(served.status, 200, JSON.stringify(served.body));
  });

  test('a worker stopped just after Redis returns, its connections still reconnecting, exits 0 at once', async () => {
    const redis = system.privateRedis!;
    redis.server.child.kill('SIGKILL');
    await redis.server.exited;
    // Away long enough that ioredis waits seconds between attempts (the scenario, not a wait for an event).
    await new Promise((r) => setTimeout(r, 3_000));
    await redis.restart();
    const node = system.nodes[0];
    const started = nowMs();
    const code = await node.trunk.stop('SIGTERM', 15_000);
    const ms = nowMs() - started;
    assert.equal(code, 0, `the trunk worker's exit code (null: killed after 15 s, its close hung):\n${logs.get(node.trunk.spec.name)!.slice(-5).join('\n')}`);
    assert.ok(ms < 10_000, `stopped after ${ms.toFixed(0)} ms`);
    await system.respawn(node.nodeId, 'trunk');
  });
});
