import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { inferQueueName } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post, waitForJob } from '../support/http';
import { Exposition, parsePrometheusText, sumOf } from '../support/prom-text';

const MODEL = 'branchy-mnist';

/** Poll until `check` holds (counters are updated after the answer, so they may lag a little). */
async function eventually<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('statistics, model configuration and /metrics across gateway, trunk and branch workers', () => {
  let system: OutletSystem;
  const answered: { exit: number; worker: string }[] = [];
  const PLANS = ['serial', 'parallel', 'full', 'branch,branch', 'trunk,skip'];

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-1' }],
    });
    // N requests with several plans, on held-out digits.
    let i = 0;
    for (const plan of PLANS) {
      for (const label of [7, 3, 8, 1]) {
        const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(label, i++ % 5), { plan }));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        answered.push({ exit: res.body.parameters.exit_index, worker: res.body.parameters.exit_worker });
      }
    }
  });

  after(async () => {
    await system?.stop();
  });

  const stats = async () => (await get(`${system.baseUrl}/v2/models/${MODEL}/stats`)).body.model_stats[0];
  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`${system.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return parsePrometheusText(await res.text());
  };

  test('statistics count every answered request, per exit and worker, in Triton\'s shape', async () => {
    const n = answered.length;
    assert.ok(answered.every((a) => typeof a.exit === 'number' && (a.worker === 'branch' || a.worker === 'trunk')), JSON.stringify(answered));
    const s = await eventually('stats for every request', stats, (s) => s?.inference_stats.success.count === n && s.execution_count === n);
    assert.equal(s.name, MODEL);
    assert.equal(s.version, '1');
    assert.equal(s.inference_count, n);
    assert.equal(s.inference_stats.fail.count, 0);
    for (const k of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output']) {
      assert.equal(typeof s.inference_stats[k].count, 'number', k);
      assert.equal(typeof s.inference_stats[k].ns, 'number', k);
    }
    assert.equal(s.inference_stats.queue.count, n);
    assert.ok(s.inference_stats.success.ns > 0 && s.inference_stats.compute_infer.ns > 0);
    assert.ok(s.last_inference > Date.now() - 120_000, 'last_inference is a recent ms timestamp');
    // Per exit and worker, exactly as the answers said.
    const exits = s.outlet.exits as { exit_index: number; branch: number; trunk: number; total: number }[];
    assert.equal(exits.reduce((a, e) => a + e.total, 0), n);
    for (const e of exits) {
      assert.equal(e.branch, answered.filter((a) => a.exit === e.exit_index && a.worker === 'branch').length, `exit ${e.exit_index} branch`);
      assert.equal(e.trunk, answered.filter((a) => a.exit === e.exit_index && a.worker === 'trunk').length, `exit ${e.exit_index} trunk`);
    }
    assert.ok(s.outlet.trunk.segments_run >= n);
    assert.equal(typeof s.outlet.trunk.segments_wasted, 'number');
    // Branch subjobs are counted when they finish, which may be after the answer.
    const handOffs = s.outlet.trunk.hand_offs;
    assert.ok(handOffs > 0, 'parallel and branch plans hand features off');
    const settled = await eventually('every subjob counted', stats, (x) => x.outlet.branch.subjobs_run + x.outlet.branch.subjobs_dropped >= handOffs);
    assert.ok(settled.outlet.branch.handoff.count > 0);

    const all = await get(`${system.baseUrl}/v2/models/stats`);
    assert.equal(all.status, 200);
    assert.ok(all.body.model_stats.some((m: any) => m.name === MODEL));
    const v = await get(`${system.baseUrl}/v2/models/${MODEL}/versions/1/stats`);
    assert.equal(v.status, 200);
    assert.equal(v.body.model_stats.length, 1);
    const unknown = await get(`${system.baseUrl}/v2/models/nope/stats`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /unknown model 'nope'/);
    assert.equal((await get(`${system.baseUrl}/v2/models/${MODEL}/versions/9/stats`)).status, 404);
  });

  test('model configuration in Triton\'s shape', async () => {
    const res = await get(`${system.baseUrl}/v2/models/${MODEL}/config`);
    assert.equal(res.status, 200);
    assert.equal(res.body.name, MODEL);
    assert.equal(typeof res.body.platform, 'string');
    assert.equal(res.body.max_batch_size, 1);
    assert.deepEqual(res.body.input.map((t: any) => [t.name, t.data_type, t.dims]), [['input', 'TYPE_FP32', [1, 28, 28]]]);
    assert.deepEqual(res.body.output.map((t: any) => [t.name, t.data_type, t.dims]), [['probabilities', 'TYPE_FP32', [10]]]);
    assert.equal(res.body.parameters.exit_count.string_value, '3');
    assert.equal(JSON.parse(res.body.parameters.exits.string_value).length, 3);
    assert.equal((await get(`${system.baseUrl}/v2/models/nope/config`)).status, 404);
  });

  test('a /metrics scrape: exit counters add up to the requests sent; queues and nodes are there', async () => {
    const n = answered.length;
    const e = await eventually('metrics for every request', scrape, (e) => sumOf(e, 'nv_inference_request_success', { model: MODEL }) === n);
    assert.equal(e.types.get('nv_inference_request_success'), 'counter');
    assert.equal(sumOf(e, 'outlet_exit_answers_total', { model: MODEL }), n);
    for (const worker of ['branch', 'trunk']) {
      assert.equal(sumOf(e, 'outlet_exit_answers_total', { model: MODEL, worker }), answered.filter((a) => a.worker === worker).length, worker);
    }
    assert.equal(sumOf(e, 'nv_inference_count', { model: MODEL, version: '1' }), n);
    assert.equal(sumOf(e, 'nv_inference_request_failure', { model: MODEL }), 0);
    assert.ok(sumOf(e, 'nv_inference_request_duration_us', { model: MODEL }) > 0);
    assert.ok(e.samples.some((s) => s.name === 'nv_inference_queue_duration_us' && s.labels.model === MODEL));
    for (const name of ['outlet_trunk_segments_wasted_total', 'outlet_branch_subjobs_run_total', 'outlet_branch_subjobs_dropped_total', 'outlet_branch_handoff_duration_us']) {
      assert.ok(e.samples.some((s) => s.name === name && s.labels.model === MODEL), name);
    }
    assert.equal(sumOf(e, 'outlet_queue_jobs', { queue: inferQueueName(MODEL), state: 'completed' }) > 0, true);
    assert.ok(e.samples.some((s) => s.name === 'outlet_queue_jobs' && s.labels.queue === 'outlet-branch-edge-1'));
    assert.equal(sumOf(e, 'outlet_node_info', { node: 'edge-1', execution_provider: 'cpu' }), 1);
    const age = e.samples.find((s) => s.name === 'outlet_node_heartbeat_age_seconds' && s.labels.node === 'edge-1');
    assert.ok(age && age.value >= 0 && age.value < 10, JSON.stringify(age));
    assert.ok(e.samples.some((s) => s.name === 'outlet_node_cpu_utilization' && s.labels.node === 'edge-1'));
  });

  test('a malformed job is counted as a failure; the next request still succeeds and counts', async () => {
    const before = await stats();
    const queue = new Queue(inferQueueName(MODEL), queueOptions(inferQueueName(MODEL), system.redisUrl));
    try {
      const bad = await queue.add('infer', { model: MODEL, input: { shape: [1, 2] }, plan: 'serial' } as any);
      assert.equal((await waitForJob(system.baseUrl, bad.id!)).state, 'failed');
    } finally {
      await queue.close();
    }
    const s = await eventually('the failure counted', stats, (s) => s.inference_stats.fail.count === before.inference_stats.fail.count + 1);
    assert.equal(s.outlet.fail_by.worker, before.outlet.fail_by.worker + 1);
    const e = await scrape();
    assert.equal(sumOf(e, 'nv_inference_request_failure', { model: MODEL }), s.inference_stats.fail.count);
    const ok = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(4, 0), { plan: 'serial' }));
    assert.equal(ok.status, 200);
    await eventually('the next success counted', stats, (x) => x.inference_stats.success.count === before.inference_stats.success.count + 1);
  });
});
