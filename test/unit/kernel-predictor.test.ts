import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeModel, AttributeType, onnx, OnnxWriter, seededRandom } from '@outlet/onnx-cost';
import { summarize } from '@outlet/profiler';
import {
  batchNorm, fitClass, fitClasses, generateArchitectures, generateBlocks, KERNEL_CLASSES, KERNEL_FEATURES, KernelPredictorFile, KernelSample,
  callShape, fitCallModel, fitOverhead, kernelFeatureVector, kernelTimesFromProfile, listKernels, MeasuredModel, overheadMs, predictClass, predictKernels,
  profilerMsPerKernel, resultMb, runtimeKernels, samplesOf, trimmedMean, ADAPT_BANDS, KernelAdaptation, likenessOf, SIZE_SPLIT, smallShare,
} from '@outlet/predictor';
import { HardwareFingerprint } from '@outlet/contracts';

const ROOT = join(__dirname, '..', '..', '..');

/** Conv 8→16 k3 on 8×14×14 then Relu, as the exporter writes it. */
function convRelu(): { model: onnx.IModelProto; w: OnnxWriter } {
  const w = new OnnxWriter({ seed: 3 });
  const y = w.relu(w.conv(w.input('input', [1, 8, 14, 14]), { outChannels: 16, kernel: 3, pad: 1 }));
  w.output(y);
  return { model: w.toModel(), w };
}

test('listKernels reads a fused kernel of an optimized graph: FusedConv with its activation is one conv kernel', () => {
  const { model } = convRelu();
  const graph = model.graph!;
  const [conv, relu] = graph.node!;
  // What onnxruntime's Conv+Activation fusion writes: one com.microsoft FusedConv, the Relu gone.
  const fused: onnx.INodeProto = {
    ...conv, name: 'fused', domain: 'com.microsoft', opType: 'FusedConv', output: relu.output,
    attribute: [...(conv.attribute ?? []), { name: 'activation', type: AttributeType.STRING, s: Buffer.from('Relu') }],
  };
  const optimized = { ...model, graph: { ...graph, node: [fused] } };
  const kernels = listKernels(optimized);
  assert.equal(kernels.length, 1);
  const k = kernels[0];
  assert.equal(k.kclass, 'conv');
  assert.equal(k.label, 'FusedConv+Relu');
  assert.deepEqual(k.outputShapes[0], [1, 16, 14, 14]);
  // Its output is the graph's: what a call copies back to the caller.
  assert.deepEqual(k.graphOutputs, [0]);
  assert.equal(resultMb(kernels), (16 * 14 * 14 * 4) / 1e6);
  // FLOPs: the exported Conv's and Relu's together.
  const plain = analyzeModel(model);
  assert.ok(Math.abs(k.config.mflop * 1e6 - plain.flops) < 1e-3, `${k.config.mflop * 1e6} vs ${plain.flops}`);
  assert.equal(k.config.act, 1);
  assert.equal(k.config.sum, 0);
});

test('listKernels follows the NCHWc layout: reorders, blocked conv with a residual sum, channels restored by ReorderOutput', () => {
  const { model } = convRelu();
  const graph = model.graph!;
  const conv = graph.node![0];
  const nodes: onnx.INodeProto[] = [
    { name: 'ReorderInput', domain: 'com.microsoft.nchwc', opType: 'ReorderInput', input: ['input'], output: ['r0'], attribute: [] },
    {
      ...conv, name: 'conv_nchwc', domain: 'com.microsoft.nchwc', input: ['r0', conv.input![1], conv.input![2], 'r0_sum'], output: ['r1'],
      attribute: [...(conv.attribute ?? []), { name: 'activation', type: AttributeType.STRING, s: Buffer.from('Relu') }],
    },
    { name: 'ReorderOutput', domain: 'com.microsoft.nchwc', opType: 'ReorderOutput', input: ['r1'], output: [graph.output![0].name!],
      attribute: [{ name: 'channels', type: AttributeType.INT, i: 16 }] },
  ];
  // The sum input: a 16-channel tensor shaped like the output (declared as a graph input here).
  const sumInput: onnx.IValueInfoProto = { name: 'r0_sum', type: { tensorType: { elemType: 1, shape: { dim: [1, 16, 14, 14].map((d) => ({ dimValue: d })) } } } };
  const kernels = listKernels({ ...model, graph: { ...graph, node: nodes, input: [...graph.input!, sumInput] } });
  assert.deepEqual(kernels.map((k) => k.kclass), ['memory', 'conv', 'memory']);
  assert.equal(kernels[1].label, 'Conv+Relu+Sum');
  assert.equal(kernels[1].config.sum, 1);
  assert.deepEqual(kernels[2].outputShapes[0], [1, 16, 14, 14]);
});

test('kernel features: a strided depthwise conv gives its configuration in KERNEL_FEATURES order', () => {
  const w = new OnnxWriter({ seed: 1 });
  w.output(w.conv(w.input('input', [1, 32, 28, 28]), { outChannels: 32, kernel: 3, stride: 2, pad: 1, group: 32 }));
  const [k] = listKernels(w.toModel());
  assert.equal(k.kclass, 'dwconv');
  const x = kernelFeatureVector(k, 2, 0.5);
  assert.equal(x.length, KERNEL_FEATURES.length);
  const f = Object.fromEntries(KERNEL_FEATURES.map((n, i) => [n, x[i]]));
  assert.equal(f.in_c, 32);
  assert.equal(f.in_h, 28);
  assert.equal(f.out_h, 14);
  assert.equal(f.k, 3);
  assert.equal(f.stride, 2);
  assert.equal(f.groups, 32);
  assert.equal(f.threads, 2);
  assert.equal(f.cpu_util, 0.5);
  // 2 · 14·14·32 outputs · 9 MACs + bias.
  assert.ok(Math.abs(f.mflop - (2 * 14 * 14 * 32 * 9 + 14 * 14 * 32) / 1e6) < 1e-9);
});

test('runtimeKernels: onnxruntime folds Conv + BatchNormalization + Relu into one kernel', async () => {
  const w = new OnnxWriter({ seed: 2 });
  w.output(w.relu(batchNorm(w, w.conv(w.input('input', [1, 16, 28, 28]), { outChannels: 32, kernel: 3, pad: 1, bias: false }))));
  const kernels = await runtimeKernels(w.encode());
  const convs = kernels.filter((k) => k.kclass === 'conv');
  assert.equal(convs.length, 1);
  assert.ok(convs[0].config.act === 1, `activation fused: ${convs[0].label}`);
  assert.ok(!kernels.some((k) => k.opType === 'BatchNormalization' || k.opType === 'Relu'), kernels.map((k) => k.label).join(' '));
});

test('the block training set and the architecture stacks are written and costed', () => {
  const blocks = generateBlocks({ count: 10, seed: 5 });
  assert.equal(blocks.length, 10);
  assert.deepEqual([...new Set(blocks.map((b) => b.family))].sort(), ['fc', 'mobilenet', 'pool', 'resnet', 'vgg']);
  for (const b of [...blocks, ...generateArchitectures()]) assert.deepEqual(analyzeModel(b.bytes).unresolved, [], b.id);
  // Same seed, same blocks.
  assert.deepEqual(generateBlocks({ count: 3, seed: 5 }).map((b) => b.description), blocks.slice(0, 3).map((b) => b.description));
});

/** Synthetic kernel samples: a known non-linear time law over random configurations. */
function synthetic(n: number, seed: number, kclass: KernelSample['kclass'] = 'conv'): KernelSample[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const x = KERNEL_FEATURES.map(() => 0);
    const set = (name: string, v: number) => (x[KERNEL_FEATURES.indexOf(name as never)] = v);
    const mflop = 0.1 + rand() * 50;
    const k = rand() < 0.5 ? 1 : 3;
    set('mflop', mflop);
    set('log2_mflop', Math.log2(mflop));
    set('mbytes', mflop / 20);
    set('k', k);
    set('threads', 1);
    // 1×1 kernels run at half the speed per FLOP: what a FLOPs-only model misses.
    return { kclass, x, ms: 0.01 + 0.02 * mflop * (k === 1 ? 2 : 1) };
  });
}

test('forest: fit, JSON round trip and prediction on synthetic data learn what FLOPs miss', () => {
  const train = synthetic(200, 1);
  const test = synthetic(60, 2);
  const model = fitClass(train);
  assert.ok(model.forest, 'a forest with enough samples');
  const reloaded = JSON.parse(JSON.stringify(model));
  const xs = test.map((s) => s.x);
  const a = predictClass(model, xs);
  const b = predictClass(reloaded, xs);
  assert.deepEqual(a, b);
  const ape = a.map((p, i) => Math.abs(p - test[i].ms) / test[i].ms);
  const mape = ape.reduce((s, v) => s + v, 0) / ape.length;
  // The baseline alone (linear in FLOPs) is off by ~30% on one of the two kernel sizes.
  const baselineOnly = predictClass({ ...model, forest: undefined }, xs).map((p, i) => Math.abs(p - test[i].ms) / test[i].ms);
  const baseMape = baselineOnly.reduce((s, v) => s + v, 0) / baselineOnly.length;
  assert.ok(mape < 0.2, `forest MAPE ${mape}`);
  assert.ok(mape < baseMape * 0.6, `forest ${mape} vs baseline ${baseMape}`);
});

test('kernelTimesFromProfile takes onnxruntime profile events per node, warm-ups dropped', () => {
  const events = [
    { cat: 'Session', name: 'model_run', dur: 900 },
    ...[100, 50, 52, 54].map((dur) => ({ cat: 'Node', name: 'conv_nchwc_kernel_time', dur })),
    ...[10, 4, 5, 6].map((dur) => ({ cat: 'Node', name: 'ReorderOutput_kernel_time', dur })),
    { cat: 'Node', name: 'conv_nchwc_fence_before', dur: 0 },
  ];
  const t = kernelTimesFromProfile(events, 1);
  assert.deepEqual([...t.keys()].sort(), ['ReorderOutput', 'conv_nchwc']);
  assert.deepEqual(t.get('conv_nchwc'), [0.05, 0.052, 0.054]);
  assert.deepEqual(t.get('ReorderOutput'), [0.004, 0.005, 0.006]);
});

test('NHWC kernels (the WebGPU provider\'s layout) are costed and described as their NCHW form', () => {
  const { model } = convRelu();
  const nchw = listKernels(model)[0];
  // What the layout transformation writes for WebGPU: the Conv in com.ms.internal.nhwc on [N, H, W, C].
  const conv = { ...model.graph!.node![0], domain: 'com.ms.internal.nhwc' };
  const input = { ...model.graph!.input![0], type: { tensorType: { elemType: 1, shape: { dim: [1, 14, 14, 8].map((d) => ({ dimValue: d })) } } } };
  const relu = model.graph!.node![1];
  const nhwcModel: onnx.IModelProto = {
    ...model, opsetImport: [...(model.opsetImport ?? []), { domain: 'com.ms.internal.nhwc', version: 1 }],
    graph: { ...model.graph, input: [input], node: [conv, relu], output: [] },
  };
  const k = listKernels(nhwcModel)[0];
  assert.deepEqual(k.outputShapes[0], [1, 14, 14, 16]);
  assert.equal(k.config.mflop, nchw.config.mflop);
  assert.deepEqual([k.config.in_c, k.config.in_h, k.config.out_c, k.config.out_h], [8, 14, 16, 14]);
});

test('kernelTimesFromProfile with bursts keeps the last (warm) run of every visit', () => {
  const events = [120, 60, 50, 58, 49, 61, 51].map((dur) => ({ cat: 'Node', name: 'k_kernel_time', dur }));
  assert.deepEqual(kernelTimesFromProfile(events, 1, 2).get('k'), [0.05, 0.049, 0.051]);
});

test('trimmedMean drops the tails and resolves below the profiler\'s whole microseconds, unlike a median', () => {
  // A 0.4 µs kernel the profiler reports as 0 or 1 µs, with one outlier from a preemption.
  const durations = [0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 250];
  assert.equal(summarize(durations).median, 0);
  const mean = trimmedMean(durations, 0.2);
  assert.ok(mean > 0.3 && mean < 0.5, `trimmed mean ${mean}`);
  assert.equal(trimmedMean([5]), 5);
});

test('fitOverhead recovers the per-call cost, the per-MB costs and the profiler\'s cost per kernel from whole calls', () => {
  // Whole call = 0.01 ms + 0.02 ms/MB of large outputs + 0.1 ms/MB of results + the kernels' own
  // time; the profiler adds 1.5 µs per kernel it times.
  const random = seededRandom(9);
  const rows = Array.from({ length: 60 }, () => {
    const kernels = 1 + Math.floor(random() * 20);
    const own = 0.01 + random() * 2;
    const mb = random() < 0.5 ? 0 : random() * 10;
    const result = random() * 0.5;
    return { shape: { kernels, large_out_mb: mb, result_mb: result }, kernel_ms: own + 0.0015 * kernels, run_ms: 0.01 + 0.02 * mb + 0.1 * result + own };
  });
  const coef = fitOverhead(rows);
  assert.ok(Math.abs(coef[0] - 0.01) < 1e-6, `per call ${coef[0]}`);
  assert.ok(Math.abs(coef[2] - 0.02) < 1e-6, `per MB ${coef[2]}`);
  assert.ok(Math.abs(coef[3] - 0.1) < 1e-6, `per result MB ${coef[3]}`);
  assert.ok(Math.abs(profilerMsPerKernel(coef) - 0.0015) < 1e-6, `profiler per kernel ${profilerMsPerKernel(coef)}`);
  // The profiler's cost is not part of a plain call.
  assert.ok(Math.abs(overheadMs(coef, { kernels: 10, large_out_mb: 2, result_mb: 0.1 }) - (0.01 + 0.04 + 0.01)) < 1e-6);
});

test('fitCallModel learns from whole calls what each kernel class adds to a call, besides the forests\' predictions', () => {
  // Whole call = 5 µs + 0.9 × the kernels' predicted ms + 1 µs per conv − 0.5 µs per eltwise kernel + 0.1 ms per MB of results.
  const [base] = listKernels(convRelu().model);
  const random = seededRandom(4);
  const rows = Array.from({ length: 80 }, () => {
    const kernels = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
      const kclass = KERNEL_CLASSES[Math.floor(random() * KERNEL_CLASSES.length)];
      return { ...base, kclass, graphOutputs: undefined, outputShapes: [[1, 1 + Math.floor(random() * 64), 14, 14]] };
    });
    const kernel_ms = kernels.map(() => 0.001 + random() * 0.05);
    const perClass = { conv: 0.001, eltwise: -0.0005 } as Record<string, number>;
    const run_ms = 0.005 + kernels.reduce((sum, k, i) => sum + 0.9 * kernel_ms[i] + (perClass[k.kclass] ?? 0), 0) + 0.1 * resultMb(kernels);
    return { kernels, kernel_ms, run_ms };
  });
  const call = fitCallModel(rows)!;
  const at = (c: string) => call[1 + KERNEL_CLASSES.indexOf(c as never)];
  assert.ok(Math.abs(call[0] - 0.005) < 1e-6, `per call ${call[0]}`);
  assert.ok(Math.abs(at('conv') - 0.001) < 1e-6 && Math.abs(at('eltwise') + 0.0005) < 1e-6 && Math.abs(at('pool')) < 1e-6, `per kernel ${call}`);
  assert.ok(Math.abs(call[call.length - 2] - 0.1) < 1e-4, `per result MB ${call[call.length - 2]}`);
  assert.ok(Math.abs(call[call.length - 1] - 0.9) < 1e-6, `α ${call[call.length - 1]}`);
  // Too few calls for its coefficients: no model.
  assert.equal(fitCallModel(rows.slice(0, 10)), undefined);
});

test('samplesOf: profiled kernel times less the profiler\'s cost, scaled to the plain whole call minus its overhead', () => {
  const kernels = listKernels(convRelu().model).map((k, i) => ({ ...k, name: `k${i}` }));
  const kernel_ms = Object.fromEntries(kernels.map((k, i) => [k.name, 0.002 + 0.01 * i]));
  const model: MeasuredModel = {
    id: 'm', family: 'vgg', description: 'test', set: 'fit', kernels: { 'cpu/t1': kernels },
    runs: { 'cpu/t1': [{ cpu_util: 0, run_ms: 0.05, run_ms_a: 0.05, run_ms_b: 0.05, kernel_ms }] },
  };
  const level = { cpu_util: 0, coef: [0.01, -0.001, 0, 0, 1], n: 1 };
  const samples = samplesOf([model], 'cpu', [level]);
  assert.equal(samples.length, kernels.length);
  const total = samples.reduce((s, x) => s + x.ms, 0);
  assert.ok(Math.abs(total - (0.05 - overheadMs(level.coef, callShape(kernels)))) < 1e-9, `kernels add up to ${total}`);
  // Shares follow the times less 1 µs each, not the raw profiled times.
  const own = kernels.map((k) => kernel_ms[k.name] - 0.001);
  samples.forEach((x, i) => assert.ok(Math.abs(x.ms / total - own[i] / own.reduce((a, b) => a + b, 0)) < 1e-9));
});

function syntheticPredictor(): KernelPredictorFile {
  const samples = KERNEL_CLASSES.flatMap((c, i) => synthetic(30, 10 + i, c));
  return {
    format: 2, kind: 'kernel-predictor', created_at: new Date().toISOString(), feature_names: [...KERNEL_FEATURES],
    models: { cpu: { classes: fitClasses(samples), overhead: [{ cpu_util: 0, coef: [0.02, 0.003, 0], n: 1 }], threads: [1], levels: [0] } },
  };
}

test('predictKernels: whole call = per-call overhead + the kernels', async () => {
  const { w } = convRelu();
  const kernels = await runtimeKernels(w.encode());
  const p = syntheticPredictor();
  const pred = predictKernels(p, kernels, 'cpu', 1, 0);
  assert.equal(pred.kernels.length, kernels.length);
  const sum = pred.kernels.reduce((s, k) => s + k.ms, 0);
  assert.ok(Math.abs(pred.overhead_ms - (0.02 + 0.003 * kernels.length)) < 1e-12);
  assert.ok(Math.abs(pred.total_ms - pred.overhead_ms - sum) < 1e-12);
  assert.throws(() => predictKernels(p, kernels, 'webgpu', 1, 0), /no model for execution provider 'webgpu'/);
  // With a whole-call model: each kernel α·forest + its class's constant, the call its own terms.
  const call = [0.004, ...KERNEL_CLASSES.map((c) => (c === 'conv' ? 0.002 : 0)), 0, 0.1, 0.5];
  const level = p.models.cpu.overhead[0];
  const withCall: KernelPredictorFile = { ...p, models: { cpu: { ...p.models.cpu, overhead: [{ ...level, call }] } } };
  const called = predictKernels(withCall, kernels, 'cpu', 1, 0);
  called.kernels.forEach((k, i) => assert.ok(Math.abs(k.ms - (0.5 * pred.kernels[i].ms + (k.kernel.kclass === 'conv' ? 0.002 : 0))) < 1e-12));
  assert.ok(Math.abs(called.overhead_ms - (0.004 + 0.1 * resultMb(kernels))) < 1e-12);
  assert.ok(Math.abs(called.total_ms - called.overhead_ms - called.kernels.reduce((s, k) => s + k.ms, 0)) < 1e-12);
});

test('predictKernels with an adaptation: each band scaled, the overhead too, then all of it × the local correction', async () => {
  const kernels = await runtimeKernels(convRelu().w.encode());
  const p = syntheticPredictor();
  const base = predictKernels(p, kernels, 'cpu', 1, 0);
  const adaptation: KernelAdaptation = {
    ep: 'cpu', threads: 1, fingerprint: { id: 'test' } as HardwareFingerprint, created_at: '',
    scale: Object.fromEntries(ADAPT_BANDS.map((b) => [b, 0.5])), overhead_scale: 2, overhead_ms: 0.001,
    fit: { blocks: 0, seconds: 0, mape_before: 0, mape_after: 0, cpus: null },
  };
  const adapted = (a: KernelAdaptation, threads = 1) => predictKernels({ ...p, adaptations: { 'cpu/t1': a } }, kernels, 'cpu', threads, 0);
  const scaled = adapted(adaptation);
  scaled.kernels.forEach((k, i) => assert.ok(Math.abs(k.ms - 0.5 * base.kernels[i].ms) < 1e-12));
  assert.ok(Math.abs(scaled.overhead_ms - (2 * base.overhead_ms + 0.001)) < 1e-12);
  assert.equal(adapted(adaptation, 2).total_ms, predictKernels(p, kernels, 'cpu', 2, 0).total_ms, 'another thread count: not adapted');
  // With a size split each kernel mixes its class's two scales by its size (smallShare), and pays its class's constant.
  const split = adapted({ ...adaptation, size_split: SIZE_SPLIT, scale: Object.fromEntries(ADAPT_BANDS.map((b) => [b, b.endsWith('/small') ? 2 : 0.5])), per_kernel_ms: { conv: 0.001 } });
  split.kernels.forEach((k, i) => {
    const { ms, kernel } = base.kernels[i];
    const share = smallShare(ms, SIZE_SPLIT);
    const expected = ms * (2 * share + 0.5 * (1 - share)) + (kernel.kclass === 'conv' ? 0.001 : 0);
    assert.ok(Math.abs(k.ms - expected) < 1e-12, `${kernel.kclass} ${ms} ms: ${k.ms}, not ${expected}`);
  });
  // The measured block most like this model (its own likeness) was left 30 % too fast by the scales.
  const like = likenessOf(base);
  const far = { shares: { pool: 1 }, log_ms: like.log_ms + 5, residual: 0.5 };
  const local = adapted({ ...adaptation, local: { k: 1, size_weight: 0.5, blocks: [far, { ...like, residual: 1.3 }] } });
  local.kernels.forEach((k, i) => assert.ok(Math.abs(k.ms - 1.3 * scaled.kernels[i].ms) < 1e-12));
  assert.ok(Math.abs(local.overhead_ms - 1.3 * scaled.overhead_ms) < 1e-12);
  assert.ok(Math.abs(local.total_ms - 1.3 * scaled.total_ms) < 1e-12);
});

test('outlet predict --json: total_ms of one call, per-kernel predictions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-predict-'));
  try {
    const { w } = convRelu();
    const file = join(dir, 'tiny.onnx');
    writeFileSync(file, w.encode());
    const predictorPath = join(dir, 'kp.json');
    writeFileSync(predictorPath, JSON.stringify(syntheticPredictor()));
    const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'), 'predict', file, '--predictor', predictorPath, '--json'], { encoding: 'utf8' });
    const report = JSON.parse(out);
    assert.equal(report.kind, 'file');
    assert.equal(report.ep, 'cpu');
    assert.equal(report.threads, 1);
    assert.equal(typeof report.total_ms, 'number');
    assert.equal(report.pieces.length, 1);
    const piece = report.pieces[0];
    assert.ok(piece.kernels.length >= 1);
    for (const k of piece.kernels) for (const key of ['name', 'op', 'label', 'class', 'mflop', 'predicted_ms']) assert.ok(key in k, key);
    const sum = piece.kernels.reduce((s: number, k: { predicted_ms: number }) => s + k.predicted_ms, 0) + piece.overhead_ms;
    assert.ok(Math.abs(sum - report.total_ms) < 1e-3, `${sum} vs ${report.total_ms}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
