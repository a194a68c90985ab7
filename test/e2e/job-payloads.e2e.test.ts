/**
 * Payloads that pass between processes are checked where they are taken: a malformed task on a
 * model's queue, or a malformed subjob on a node's branch queue (put there straight, as a buggy or
 * older gateway or trunk might), fails alone with the field named, and both workers go on serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, QueueEvents } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { branchQueueName, inferQueueName, nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { post } from '../support/http';

const MODEL = 'branchy-mnist';
const NODE = 'edge-payloads';

/** A queue and its events, to wait for a job's outcome without polling. */
async function watched(name: string, redisUrl: string) {
  const queue = new Queue(name, queueOptions(name, redisUrl));
  const events = new QueueEvents(name, queueOptions(name, redisUrl));
  await events.waitUntilReady();
  return { queue, events, close: async () => (await events.close(), await queue.close()) };
}

/** The reason the job failed with (it must fail). */
async function failure(q: Awaited<ReturnType<typeof watched>>, data: unknown): Promise<string> {
  const job = await q.queue.add('payload', data as object, { attempts: 1 });
  try {
    await job.waitUntilFinished(q.events, 30_000);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`job ${JSON.stringify(data)} completed`);
}

describe('job payloads: a malformed one fails alone, naming the field; the workers go on serving', () => {
  let system: OutletSystem;
  let tasks: Awaited<ReturnType<typeof watched>>;
  let subjobs: Awaited<ReturnType<typeof watched>>;

  before(async () => {
    system = await OutletSystem.start({ quiet: true, env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' }, nodes: [{ nodeId: NODE }] });
    tasks = await watched(inferQueueName(MODEL), system.redisUrl);
    subjobs = await watched(branchQueueName(NODE), system.redisUrl);
  });

  after(async () => {
    await tasks?.close();
    await subjobs?.close();
    await system?.stop();
  });

  const task = { model: MODEL, requestId: 'r', input: { name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', key: 'nowhere' }, plan: 'serial', planSource: 'request', enqueuedAt: nowMs() };
  const context = { requestId: 'r', trunkEp: 'cpu', plan: ['branch', 'branch'], planSource: 'request', queueMs: 1, thresholdVersion: 1 };
  const subjob = { taskId: 't', model: MODEL, exitIndex: 0, feature: { transport: 'redis', key: 'nowhere' }, featureShape: [1, 8], threshold: 0.5, trunkNodeId: NODE, handedOffAt: nowMs(), task: context };

  test('tasks: each malformed field is named; a valid request is answered after them', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...task, input: undefined }, /malformed job: input is required/],
      [{ ...task, input: { ...task.input, shape: '1,1,28,28' } }, /malformed job: input\.shape must be array/],
      [{ ...task, planSource: 'client' }, /malformed job: planSource must be equal to one of the allowed values/],
      [{ ...task, threshold: 7 }, /malformed job: threshold must be <= 1/],
      [{ ...task, enqueuedAt: 'now' }, /malformed job: enqueuedAt must be number/],
      [{ ...task, progressive: 'yes' }, /malformed job: progressive must be boolean/],
    ];
    for (const [data, reason] of cases) assert.match(await failure(tasks, data), reason);
    const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(7, 0), { plan: 'serial' }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test('subjobs: each malformed field is named; a request with branch heads is answered after them', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...subjob, exitIndex: -1 }, /malformed job: exitIndex must be >= 0/],
      [{ ...subjob, feature: { transport: "disk", path: "/tmp/x" } }, /malformed job: feature\.file is required/],
      [{ ...subjob, task: { ...context, plan: ['gpu'] } }, /malformed job: task\.plan\[0\] must be equal to one of the allowed values/],
      [{ ...subjob, task: undefined }, /malformed job: task is required/],
      [{ ...subjob, exitIndex: 5 }, /exit 5 is not an early exit of branchy-mnist/],
    ];
    for (const [data, reason] of cases) assert.match(await failure(subjobs, data), reason);
    const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(3, 0), { plan: 'parallel' }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});
