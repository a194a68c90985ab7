import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { BranchJobData, BranchResult, branchQueueName, inferQueueName } from '@outlet/contracts';
import { isConfident } from '@outlet/inference';
import { PlanTable, loadModelPackage, planForUtilization, readPackageJson } from '@outlet/model-package';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { DirectModel, MODELS_DIR } from '../support/direct';
import { get, post, waitForJob } from '../support/http';
import { TrunkRecords } from '../support/trunk-record';
import { assertViewsAgree } from '../support/agreement';

const MODEL = 'branchy-mnist';
const THRESHOLDS = [0.85, 0.7, 0]; // read back from the manifest below

describe('branchy-mnist through gateway, Redis and worker processes', () => {
  let system: OutletSystem;
  let direct: DirectModel;
  let infer: string;
  let records: TrunkRecords;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      gatewayEnv: { OUTLET_BODY_LIMIT: '64kb' },
      nodes: [{ nodeId: 'edge-1' }],
    });
    direct = await DirectModel.open(join(MODELS_DIR, MODEL));
    direct.model.manifest.exits.forEach((e, i) => (THRESHOLDS[i] = e.threshold));
    infer = `${system.baseUrl}/v2/models/${MODEL}/infer`;
    records = await new TrunkRecords(system.redisUrl, MODEL).ready();
  });

  after(async () => {
    await records?.close();
    await direct?.release();
    await system?.stop();
  });

  test('health, server and model metadata follow the Open Inference Protocol v2', async () => {
    assert.equal((await get(`${system.baseUrl}/v2/health/live`)).status, 200);
    assert.equal((await get(`${system.baseUrl}/v2/health/ready`)).status, 200);
    const meta = await get(`${system.baseUrl}/v2/models/${MODEL}`);
    assert.equal(meta.status, 200);
    assert.equal(meta.body.name, MODEL);
    assert.deepEqual(meta.body.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }]);
    assert.equal(meta.body.outputs[0].name, 'probabilities');
    assert.equal((await get(`${system.baseUrl}/v2/models/${MODEL}/ready`)).status, 200);
    // Triton's repository index, POSTed with an empty body as tritonclient's get_model_repository_index() does.
    const index = await post(`${system.baseUrl}/v2/repository/index`);
    assert.equal(index.status, 200, JSON.stringify(index.body));
    assert.deepEqual(index.body.find((m: any) => m.name === MODEL), { name: MODEL, version: '1', state: 'READY' });
    assert.equal((await post(`${system.baseUrl}/v2/repository/index`, { ready: true })).body.every((m: any) => m.state === 'READY'), true);
    const bad = await post(`${system.baseUrl}/v2/repository/index`, { ready: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /"ready" must be true or false/);
  });

  for (const plan of ['serial', 'parallel', 'full']) {
    test(`plan=${plan}: the answer equals direct onnxruntime inference of the exit that answered`, async () => {
      for (const [label, nth] of [[7, 0], [3, 1], [8, 2], [5, 3], [2, 4], [9, 5]]) {
        const pixels = heldOutDigit(label, nth);
        const res = await post(infer, inferBody(pixels, { plan }, `d${label}-${nth}`));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const p = res.body.parameters;
        const exits = await direct.allExits(pixels);
        const output = res.body.outputs[0];
        assert.equal(res.body.model_name, MODEL);
        assert.equal(res.body.id, `d${label}-${nth}`);
        assert.equal(output.name, 'probabilities');
        assert.deepEqual(output.shape, [1, 10]);
        const expected = exits[p.exit_index];
        // serial: the trunk worker runs each segment and its inline head as one fused onnxruntime call;
        // DirectModel runs them as separate calls: the two agree to 1e-5.
        const how = plan === 'serial' ? 'fused inline head (trunk worker) vs separate segment + head calls (direct onnxruntime)' : 'system vs direct onnxruntime';
        output.data.forEach((v: number, i: number) => assert.ok(Math.abs(v - expected[i]) <= 1e-5, `plan ${plan}, exit ${p.exit_index}, value ${i}: ${how}: ${v} vs ${expected[i]}`));
        assert.equal(p.exit_count, 3);
        assert.equal(p.node_id, 'edge-1');
        assert.equal(p.trunk_ep, 'cpu');
        for (const key of ['queue_ms', 'ingress_ms', 'delivery_ms', 'total_ms', 'exit_confidence']) assert.equal(typeof p[key], 'number', key);
        const firstConfident = exits.findIndex((probs, i) => i === exits.length - 1 || isConfident(probs, THRESHOLDS[i]));
        if (plan === 'full') {
          assert.equal(p.plan, 'skip,skip');
          assert.equal(p.exit_index, 2);
          assert.deepEqual((await records.of(p.task_id)).telemetry.segmentsRan, [0, 1, 2]);
          assert.equal(p.exit_worker, 'trunk');
        } else if (plan === 'serial') {
          assert.equal(p.plan, 'trunk,trunk');
          assert.equal(p.exit_index, firstConfident, 'serial answers from the first confident exit');
          assert.equal(p.exit_worker, 'trunk');
          assert.equal((await records.of(p.task_id)).telemetry.segmentsRan.length, firstConfident + 1);
        } else {
          assert.equal(p.plan, 'branch,branch');
          // The first decision in time: a confident branch head, or the final exit if the trunk won.
          assert.ok(p.exit_worker === 'branch' ? p.exit_index < 2 && isConfident(expected, THRESHOLDS[p.exit_index]) : p.exit_index === 2);
          // The job completes with the answer the client got, whichever worker gave it.
          const { answer } = await records.of(p.task_id);
          assert.deepEqual(answer.outputs[0].data, output.data);
          assert.equal(answer.exitWorker, p.exit_worker);
        }
      }
    });
  }

  test('the race between a branch head and the trunk\'s inline exit: the HTTP answer, the job record and GET /v1/jobs/:id agree with the branch subjobs\' outcomes', async () => {
    // Threshold 0 makes every exit confident: with `branch,trunk`, exit 0's branch head and the trunk's
    // fused segment 1 + exit 1 both decide, close in time; with `parallel`, both heads and the final exit.
    const branch = new Queue<BranchJobData, BranchResult>(branchQueueName('edge-1'), queueOptions(branchQueueName('edge-1'), system.redisUrl));
    try {
      const seen = { branch: 0, trunk: 0 };
      for (const plan of ['branch,trunk', 'parallel', 'trunk,branch']) {
        for (let i = 0; i < 6; i++) {
          const res = await post(infer, inferBody(heldOutDigit(i, 6), { plan, threshold: 0 }, `race-${plan}-${i}`));
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const p = res.body.parameters;
          seen[p.exit_worker as 'branch' | 'trunk']++;
          if (plan === 'trunk,branch') assert.deepEqual([p.exit_index, p.exit_worker], [0, 'trunk'], 'an inline exit 0 decides first');
          await assertViewsAgree(system.baseUrl, records, res.body, `plan ${plan} #${i}`);
          // The branch worker's own record of each subjob of this task agrees with who answered.
          const deadline = Date.now() + 20_000;
          let subjobs: Job<BranchJobData, BranchResult>[] = [];
          const expectedSubjobs = plan === 'trunk,branch' ? 0 : plan === 'parallel' ? undefined : 1;
          for (;;) {
            subjobs = (await branch.getJobs(['completed', 'failed', 'active', 'waiting'], 0, 200)).filter((j) => j.data.taskId === p.task_id);
            const settled = subjobs.every((j) => j.returnvalue) && (expectedSubjobs === undefined || subjobs.length >= expectedSubjobs);
            if (settled) break;
            assert.ok(Date.now() < deadline, `plan ${plan}: subjobs not settled: ${JSON.stringify(subjobs.map((j) => [j.data.exitIndex, j.returnvalue]))}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          const outcomes = subjobs.map((j) => [j.data.exitIndex, j.returnvalue.outcome]);
          const winners = subjobs.filter((j) => j.returnvalue.outcome === 'exit');
          if (p.exit_worker === 'branch') {
            assert.deepEqual(winners.map((j) => j.data.exitIndex), [p.exit_index], `plan ${plan}: the answering head's subjob says exit: ${JSON.stringify(outcomes)}`);
          } else {
            assert.equal(winners.length, 0, `plan ${plan}: the trunk answered, so no head won: ${JSON.stringify(outcomes)}`);
            for (const j of subjobs) assert.ok(['late', 'dropped'].includes(j.returnvalue.outcome), `plan ${plan}: ${JSON.stringify(outcomes)}`);
          }
        }
      }
      assert.ok(seen.trunk > 0, 'some race was won by the trunk');
    } finally {
      await branch.close();
    }
  });

  test('without a plan, auto picks the plan table\'s row for the load the node saw', async () => {
    const table = readPackageJson<PlanTable>(loadModelPackage(join(MODELS_DIR, MODEL)), 'plans.json')!;
    const res = await post(infer, inferBody(heldOutDigit(2, 0)));
    assert.equal(res.status, 200);
    const p = res.body.parameters;
    assert.equal(p.plan_source, 'auto');
    assert.equal(typeof p.cpu_util, 'number');
    assert.ok(p.cpu_util >= 0 && p.cpu_util <= 1);
    assert.equal(p.plan, planForUtilization(table, p.cpu_util).plan.join(','));
  });

  test('a comma plan and a threshold override are applied', async () => {
    const pixels = heldOutDigit(1, 0);
    const res = await post(infer, inferBody(pixels, { plan: 'skip,trunk', threshold: 0 }));
    assert.equal(res.status, 200);
    assert.equal(res.body.parameters.plan, 'skip,trunk');
    assert.equal(res.body.parameters.exit_index, 1, 'threshold 0 makes exit 1 answer; exit 0 was skipped');
    assert.deepEqual((await records.of(res.body.parameters.task_id)).telemetry.segmentsRan, [0, 1]);
  });

  test('asynchronous jobs: 202 with an id, then the same result as /infer', async () => {
    const pixels = heldOutDigit(4, 1);
    const submitted = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...inferBody(pixels, { plan: 'full' }, 'async-1') });
    assert.equal(submitted.status, 202);
    assert.equal(typeof submitted.body.id, 'string');
    const done = await waitForJob(system.baseUrl, submitted.body.id);
    assert.equal(done.state, 'completed');
    const exits = await direct.allExits(pixels);
    assert.equal(done.result.id, 'async-1');
    assert.equal(done.result.parameters.exit_index, 2);
    done.result.outputs[0].data.forEach((v: number, i: number) => assert.ok(Math.abs(v - exits[2][i]) <= 1e-5));
    assert.equal((await get(`${system.baseUrl}/v1/jobs/no-such-job`)).status, 404);
  });

  test('every bad input gets its 4xx with the reason named, and the workers go on serving', async () => {
    const good = inferBody(heldOutDigit(0, 0));
    const tensor = (over: Record<string, unknown>) => ({ inputs: [{ ...good.inputs[0], ...over }] });
    const cases: [string, string, unknown, number, RegExp][] = [
      ['unknown model', `${system.baseUrl}/v2/models/resnet/infer`, good, 404, /unknown model 'resnet'/],
      ['malformed JSON', infer, '{"inputs": [', 400, /malformed JSON/],
      ['missing input', infer, { inputs: [] }, 400, /missing input 'input'/],
      ['unknown input', infer, tensor({ name: 'image' }), 400, /unknown input 'image'/],
      ['wrong datatype', infer, tensor({ datatype: 'INT64' }), 400, /datatype "INT64"; expected 'FP32'/],
      ['wrong shape', infer, tensor({ shape: [1, 28, 28] }), 400, /shape \[1,28,28\] does not match/],
      ['batch of 2', infer, tensor({ shape: [2, 1, 28, 28] }), 400, /batch size 2 is not supported/],
      ['data length', infer, tensor({ data: [1, 2, 3] }), 400, /has 3 values but shape \[1,1,28,28\] needs 784/],
      ['not finite', infer, tensor({ data: [...good.inputs[0].data.slice(0, 783), 'NaN'] }), 400, /index 783 is "NaN", not a finite number/],
      ['unknown plan', infer, { ...good, parameters: { plan: 'turbo' } }, 400, /unknown plan or placement 'turbo'/],
      ['unknown placement', infer, { ...good, parameters: { plan: 'branch,gpu' } }, 400, /unknown plan or placement 'gpu'/],
      ['body too large', infer, { ...good, padding: 'x'.repeat(100_000) }, 413, /larger than the limit of 64kb/],
      ['unknown job model', `${system.baseUrl}/v1/jobs`, { model: 'resnet', ...good }, 404, /unknown model 'resnet'/],
    ];
    for (const [name, url, body, status, message] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, message, name);
    }
    const ok = await post(infer, good);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.parameters.label, '0');
  });

  test('a malformed job that bypasses the gateway fails alone; the worker keeps serving', async () => {
    const queue = new Queue(inferQueueName(MODEL), queueOptions(inferQueueName(MODEL), system.redisUrl));
    try {
      const bad = await queue.add('infer', { model: MODEL, input: { shape: [1, 2] }, plan: 'serial' } as any);
      const failed = await waitForJob(system.baseUrl, bad.id!);
      assert.equal(failed.state, 'failed');
      assert.match(failed.error, /malformed job: requestId is required/);
      const res = await post(infer, inferBody(heldOutDigit(6, 0), { plan: 'serial' }));
      assert.equal(res.status, 200);
    } finally {
      await queue.close();
    }
  });
});
