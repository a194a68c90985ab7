import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { queueOptions } from '@outlet/config';
import { TrunkTelemetry, inferQueueName, inputKey, nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { get, post, waitForJob } from '../support/http';
import { untilIdle } from '../support/poll';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

/**
 * Admission control (OUTLET_MAX_QUEUED), deadlines (`timeout`) and priorities (`priority`) on real
 * processes: one node whose trunk (concurrency 1) is held busy by a slow task while others wait.
 * slow-segment: 3 segments of ~200 ms; plan 'full' runs all three (~600 ms), 'serial' answers at
 * exit 0 after one (~200 ms).
 */
const MODEL = 'slow-segment';
/** Small, but room for the four tasks the deadline and priority tests queue behind a busy trunk. */
const MAX_QUEUED = 4;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('admission control, deadlines and priorities', () => {
  let system: OutletSystem;
  let queue: Queue;
  let redis: Redis;
  let client: grpc.Client;
  let infer: string;
  let jobs: string;
  let n = 0;
  const body = (parameters: Record<string, unknown>) => inferBody(heldOutDigit(7, n++ % 100), parameters);

  /** Submit an asynchronous task; returns its id. */
  const submit = async (parameters: Record<string, unknown>) => {
    const res = await post(jobs, { model: MODEL, ...body(parameters) });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.id as string;
  };

  /** Occupy the trunk with a ~600 ms task; resolves once the trunk has taken it. */
  const holdTrunk = async () => {
    const id = await submit({ plan: 'full' });
    await until('the trunk takes the blocking task', async () => (await queue.getJobState(id)) === 'active');
    return id;
  };

  /** The trunk's record of a task (a log line of its job, written as the task ends: a synchronous answer can come first). */
  const telemetryOf = async (id: string): Promise<TrunkTelemetry> => {
    const logs = await until(`the trunk's record of ${id}`, async () => {
      const { logs } = await queue.getJobLogs(id);
      return logs.length > 0 && logs;
    });
    assert.equal(logs.length, 1, `task ${id} has one trunk record`);
    return JSON.parse(logs[0]);
  };

  const grpcInfer = (parameters: Record<string, unknown>) =>
    new Promise<{ err: grpc.ServiceError | null; res: any }>((resolve) => {
      const request = {
        model_name: MODEL,
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 28, 28], contents: { fp32_contents: heldOutDigit(7, 0) } }],
        parameters,
      };
      (client as any).ModelInfer(request, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: any) => resolve({ err, res }));
    });

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_FEATURE_TRANSPORT: 'redis' },
      gatewayEnv: { OUTLET_MAX_QUEUED: String(MAX_QUEUED) },
      nodes: [{ nodeId: 'adm-a' }],
    });
    infer = `${system.baseUrl}/v2/models/${MODEL}/infer`;
    jobs = `${system.baseUrl}/v1/jobs`;
    queue = new Queue(inferQueueName(MODEL), queueOptions(inferQueueName(MODEL), system.redisUrl));
    redis = new Redis(system.redisUrl);
    const Service = loadGrpcInferenceService();
    client = new Service(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    redis?.disconnect();
    await queue?.close();
    await system?.stop();
  });

  test('past OUTLET_MAX_QUEUED waiting tasks: 429 with Retry-After (gRPC RESOURCE_EXHAUSTED); every accepted task is answered', async () => {
    const blocker = await holdTrunk();
    // A burst at once: exactly the bound gets in (one gateway counts its own admissions in flight).
    const burst = await Promise.all(Array.from({ length: MAX_QUEUED + 3 }, () => post(jobs, { model: MODEL, ...body({ plan: 'serial' }) })));
    assert.deepEqual(burst.map((r) => r.status).sort(), [...Array(MAX_QUEUED).fill(202), 429, 429, 429], JSON.stringify(burst.map((r) => r.body)));
    const accepted = [blocker, ...burst.filter((r) => r.status === 202).map((r) => r.body.id as string)];

    const refusedJob = await post(jobs, { model: MODEL, ...body({ plan: 'serial' }) });
    const refusedInfer = await post(infer, body({ plan: 'serial' }));
    const refusedVersion = await post(`${system.baseUrl}/v2/models/${MODEL}/versions/1/infer`, body({}));
    const refusedGrpc = await grpcInfer({});
    // All four were refused while the blocker still ran: the queue was full throughout.
    assert.equal(await queue.getJobState(blocker), 'active', 'the trunk was still busy');
    for (const res of [refusedJob, refusedInfer, refusedVersion]) {
      assert.equal(res.status, 429, JSON.stringify(res.body));
      assert.equal(res.headers.get('retry-after'), '1');
      assert.match(res.body.error, new RegExp(`model '${MODEL}' has ${MAX_QUEUED} tasks waiting, at its bound OUTLET_MAX_QUEUED=${MAX_QUEUED}`));
    }
    assert.equal(refusedGrpc.err?.code, grpc.status.RESOURCE_EXHAUSTED, String(refusedGrpc.err));
    assert.match(refusedGrpc.err!.details, /OUTLET_MAX_QUEUED=4/);

    // Every accepted task is answered; nothing refused became a job or left its input behind.
    for (const id of accepted) assert.equal((await waitForJob(system.baseUrl, id)).state, 'completed', id);
    const counts = await queue.getJobCounts();
    assert.equal(counts.completed, accepted.length, JSON.stringify(counts));
    assert.equal(counts.failed, 0);
    await until('refused inputs are removed', async () => (await redis.keys(inputKey('*'))).length === 0);

    // Room again: accepted.
    assert.equal((await post(infer, body({ plan: 'serial' }))).status, 200);
  });

  test('a task whose timeout passes while it waits is never run: 504 at its deadline (sync), failed (async); the trunk records it never started', async () => {
    // ~1.2 s of work ahead of the timed tasks: a running task and a waiting one.
    const blocker = await holdTrunk();
    const ahead = await submit({ plan: 'full' });
    const TIMEOUT_US = 150_000;
    const asyncId = await submit({ plan: 'full', timeout: TIMEOUT_US });
    const sentAt = nowMs();
    const [{ sync, waitedMs }, grpcExpired] = await Promise.all([
      post(infer, body({ plan: 'full', timeout: TIMEOUT_US })).then((res) => ({ sync: res, waitedMs: nowMs() - sentAt })),
      grpcInfer({ plan: { string_param: 'full' }, timeout: { uint64_param: TIMEOUT_US } }),
    ]);

    assert.equal(sync.status, 504, JSON.stringify(sync.body));
    assert.match(sync.body.error, /did not finish within its timeout of 150000 µs \(parameters\.timeout\); a task not started by then is never run/);
    // Not before the deadline: the gateway's timer starts after `sentAt` and a timer never fires early
    // (1 ms for its whole-ms rounding). The upper limit is a safety bound far above the 150 ms (not the
    // 30 s infer timeout); "at its deadline" is the event below: answered while the trunk still held its task.
    assert.ok(waitedMs >= TIMEOUT_US / 1000 - 1 && waitedMs < 10_000, `the caller waited ${waitedMs.toFixed(0)} ms for a 150 ms timeout`);
    assert.equal(await queue.getJobState(blocker), 'active', 'answered at the deadline, before the trunk was free');
    assert.equal(grpcExpired.err?.code, grpc.status.DEADLINE_EXCEEDED, String(grpcExpired.err));
    const syncId = /task ([0-9a-f-]{36})/.exec(sync.body.error)![1];
    const grpcId = /task ([0-9a-f-]{36})/.exec(grpcExpired.err!.details)![1];

    for (const id of [asyncId, syncId, grpcId]) {
      const job = await waitForJob(system.baseUrl, id);
      assert.equal(job.state, 'failed', JSON.stringify(job));
      assert.match(job.error, /its deadline \(parameters\.timeout\) passed \d+\.\d ms before a trunk worker took it; not run/);
      const telemetry = await telemetryOf(id);
      assert.deepEqual(telemetry.segmentsRan, [], 'no segment ran');
      assert.equal(telemetry.handOffs, 0);
      assert.ok(telemetry.deadlineExpiredMs! > 0, JSON.stringify(telemetry));
    }
    for (const id of [blocker, ahead]) assert.equal((await waitForJob(system.baseUrl, id)).state, 'completed');

    // A timeout long enough is no obstacle.
    const inTime = await post(infer, body({ plan: 'serial', timeout: 20_000_000 }));
    assert.equal(inTime.status, 200, JSON.stringify(inTime.body));
    assert.equal((await telemetryOf(inTime.body.parameters.task_id)).deadlineExpiredMs, undefined);
  });

  test('a higher-priority task waiting is taken before lower ones, whatever their order of arrival', async () => {
    const blocker = await holdTrunk();
    // Arrival order: low, default (OUTLET_DEFAULT_PRIORITY 100), high, low again.
    const low = await submit({ plan: 'serial', priority: 500 });
    const ordinary = await submit({ plan: 'serial' });
    const high = await submit({ plan: 'serial', priority: 1 });
    const lowAgain = await submit({ plan: 'serial', priority: 500 });
    assert.equal((await get(`${jobs}/${high}`)).body.state, 'waiting', 'a task with a priority is "waiting" to clients');
    assert.equal(await queue.getJobState(blocker), 'active', 'all four waited together behind the blocker');

    const ids = [low, ordinary, high, lowAgain];
    for (const id of [blocker, ...ids]) assert.equal((await waitForJob(system.baseUrl, id)).state, 'completed', id);
    const taken = await Promise.all(ids.map(async (id) => ({ id, at: (await Job.fromId(queue, id))!.processedOn! })));
    taken.sort((a, b) => a.at - b.at);
    assert.deepEqual(
      taken.map((t) => t.id),
      [high, ordinary, low, lowAgain],
      'taken by priority (1, default 100, 500), FIFO within one',
    );
  });

  test('a bad timeout or priority is a 400 that names it, and becomes no job', async () => {
    // Earlier tests' jobs finish moving to "completed" just after their answers: wait for them.
    await untilIdle(queue);
    const before = await queue.getJobCounts();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ timeout: -5 }, /parameters\.timeout must be an integer number of microseconds .* not -5/],
      [{ timeout: 2.5 }, /parameters\.timeout .* not 2\.5/],
      [{ priority: 2 ** 22 }, /parameters\.priority must be an integer from 1 \(highest\) to 2097152 \(lowest\), or 0 for the default, not 4194304/],
    ];
    for (const [parameters, message] of cases) {
      for (const res of [await post(infer, body(parameters)), await post(jobs, { model: MODEL, ...body(parameters) })]) {
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.error, message);
      }
    }
    assert.deepEqual(await queue.getJobCounts(), before);
  });
});
