import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { Manifest } from '@outlet/model-package';
import { exitField, msToNs } from '@outlet/transport';
import { toTritonModelConfig, toTritonModelStat } from '../../apps/gateway/src/statistics-shape';
import { parsePrometheusText, sumOf } from '../support/prom-text';

const manifest: Manifest = {
  name: 'branchy-mnist',
  version: '1',
  input: { name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] },
  output: { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
  labels: ['a', 'b'],
  segments: [
    { file: 's1.onnx', output_shape: [-1, 8, 14, 14] },
    { file: 's2.onnx', output_shape: [-1, 16, 7, 7] },
  ],
  exits: [
    { file: 'e1.onnx', after_segment: 0, threshold: 0.75 },
    { file: 'e2.onnx', after_segment: 1, threshold: 0 },
  ],
};

test('counters → Triton model_stats: success adds synchronous and asynchronous tasks, durations are {count, ns}', () => {
  const c = {
    success_count: 3, success_ns: 3000, async_success_count: 1, async_success_ns: 500,
    fail_count: 2, fail_ns: 40, fail_by_worker: 1, fail_by_gateway: 1,
    inference_count: 4, execution_count: 4, queue_count: 4, queue_ns: 400,
    compute_input_count: 3, compute_input_ns: 30, compute_infer_count: 4, compute_infer_ns: 4000, compute_output_count: 3, compute_output_ns: 60,
    [exitField(0, 'branch')]: 2, [exitField(0, 'trunk')]: 1, [exitField(1, 'trunk')]: 1,
    segments_run: 6, segments_wasted: 1, hand_offs: 3,
    'branch:run': 2, 'branch:dropped': 1, 'branch:exit': 2, handoff_count: 3, handoff_ns: 900,
    last_inference: 1700000000000,
  };
  const s = toTritonModelStat('branchy-mnist', '1', 2, c);
  assert.equal(s.name, 'branchy-mnist');
  assert.equal(s.version, '1');
  assert.equal(s.last_inference, 1700000000000);
  assert.equal(s.inference_count, 4);
  assert.equal(s.execution_count, 4);
  assert.deepEqual(s.inference_stats.success, { count: 4, ns: 3500 });
  assert.deepEqual(s.inference_stats.fail, { count: 2, ns: 40 });
  assert.deepEqual(s.inference_stats.queue, { count: 4, ns: 400 });
  assert.deepEqual(s.inference_stats.compute_input, { count: 3, ns: 30 });
  assert.deepEqual(s.inference_stats.compute_infer, { count: 4, ns: 4000 });
  assert.deepEqual(s.inference_stats.compute_output, { count: 3, ns: 60 });
  assert.equal(s.batch_stats[0].batch_size, 1);
  assert.deepEqual(s.outlet.exits, [
    { exit_index: 0, branch: 2, trunk: 1, total: 3 },
    { exit_index: 1, branch: 0, trunk: 1, total: 1 },
  ]);
  assert.deepEqual(s.outlet.trunk, { segments_run: 6, segments_wasted: 1, hand_offs: 3 });
  assert.equal(s.outlet.branch.subjobs_run, 2);
  assert.equal(s.outlet.branch.subjobs_dropped, 1);
  assert.deepEqual(s.outlet.branch.outcomes, { exit: 2, late: 0, continue: 0, dropped: 1 });
  assert.deepEqual(s.outlet.branch.handoff, { count: 3, ns: 900 });
  assert.deepEqual(s.outlet.fail_by, { worker: 1, gateway: 1 });
});

test('no counters yet: every count is 0 and no batch_stats', () => {
  const s = toTritonModelStat('m', '1', 3, {});
  assert.equal(s.last_inference, 0);
  assert.deepEqual(s.inference_stats.success, { count: 0, ns: 0 });
  assert.deepEqual(s.batch_stats, []);
  assert.equal(s.outlet.exits.length, 3);
  assert.ok(s.outlet.exits.every((e) => e.total === 0));
});

test('msToNs: whole nanoseconds, never negative', () => {
  assert.equal(msToNs(1.5), 1_500_000);
  assert.equal(msToNs(-3), 0);
  assert.equal(msToNs(NaN), 0);
});

test('Triton model config: batch dimension out of dims, max_batch_size 1, TYPE_FP32, exits as parameters', () => {
  const cfg = toTritonModelConfig(manifest, 'auto');
  assert.equal(cfg.name, 'branchy-mnist');
  assert.equal(cfg.platform, 'outlet_multi_exit_onnx');
  assert.equal(cfg.max_batch_size, 1);
  assert.deepEqual(cfg.input, [{ name: 'input', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [1, 28, 28] }]);
  assert.deepEqual(cfg.output, [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [10] }]);
  assert.deepEqual(cfg.version_policy, { specific: { versions: [1] } });
  assert.equal(cfg.parameters.exit_count.string_value, '2');
  assert.deepEqual(JSON.parse(cfg.parameters.exits.string_value), [
    { exit_index: 0, after_segment: 0, threshold: 0.75 },
    { exit_index: 1, after_segment: 1, threshold: 0 },
  ]);
  assert.equal(cfg.parameters.default_plan.string_value, 'auto');
  for (const v of Object.values(cfg.parameters)) assert.equal(typeof v.string_value, 'string');
});

test('Triton model config: a model without a batch dimension has max_batch_size 0 and full dims', () => {
  const cfg = toTritonModelConfig({ ...manifest, input: { ...manifest.input, shape: [1, 1, 28, 28] } }, 'serial');
  assert.equal(cfg.max_batch_size, 0);
  assert.deepEqual(cfg.input[0].dims, [1, 1, 28, 28]);
});

test('the Prometheus text parser reads prom-client\'s exposition, escapes included', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'x_total', help: 'an "x"\\y', labelNames: ['a', 'b'], registers: [registry] });
  c.inc({ a: 'one', b: 'q"uo\\te\nnl' }, 2);
  c.inc({ a: 'two', b: '' }, 3.5);
  const e = parsePrometheusText(await registry.metrics());
  assert.equal(e.types.get('x_total'), 'counter');
  assert.equal(sumOf(e, 'x_total'), 5.5);
  assert.equal(sumOf(e, 'x_total', { a: 'one' }), 2);
  assert.deepEqual(e.samples.find((s) => s.labels.a === 'one')?.labels.b, 'q"uo\\te\nnl');
  assert.throws(() => parsePrometheusText('bad{a="1" 2'), /expected/);
  assert.throws(() => parsePrometheusText('m abc'), /not a sample value/);
});
