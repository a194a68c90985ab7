import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { analyzeModel, OnnxWriter, onnx, readOnnxModel, tensorValues, windowOutput } from '@outlet/onnx-cost';

const ROOT = join(__dirname, '..', '..', '..');

function single(build: (w: OnnxWriter) => string) {
  const w = new OnnxWriter({ seed: 7 });
  w.output(build(w));
  return analyzeModel(w.encode());
}

test('conv FLOPs by hand: stride 2, pads 1, dilation 2, group 2, with bias', () => {
  const cost = single((w) => {
    const x = w.input('x', [1, 8, 32, 32]);
    const wt = w.randomWeights('w', [16, 4, 3, 3], 36);
    const b = w.randomWeights('b', [16], 36);
    return w.node('Conv', [x, wt, b], { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2], group: 2 })[0];
  });
  // effective kernel (3-1)*2+1 = 5; out = floor((32+1+1-5)/2)+1 = 15
  assert.deepEqual(cost.outputs[0].shape, [1, 16, 15, 15]);
  // MACs = Cout·H·W·(Cin/group)·kh·kw = 16·15·15·4·3·3 = 129600; 2 FLOPs per MAC, +1 per output for the bias
  assert.equal(cost.flops, 2 * 129600 + 16 * 15 * 15);
  assert.equal(cost.byCategory.conv.flops, cost.flops);
  // bytes: input 8·32·32 + weights 16·4·9 + bias 16 + output 16·15·15, 4 bytes each
  assert.equal(cost.bytes, 4 * (8 * 32 * 32 + 16 * 4 * 9 + 16 + 16 * 15 * 15));
  assert.equal(cost.params, 16 * 4 * 9 + 16);
});

test('conv auto_pad SAME_UPPER and VALID output sizes, depthwise conv', () => {
  assert.equal(windowOutput(15, 3, 2, 1, 0, 0, 'SAME_UPPER'), 8);
  assert.equal(windowOutput(15, 3, 2, 1, 0, 0, 'VALID'), 7);
  assert.equal(windowOutput(7, 2, 2, 1, 0, 0, 'NOTSET', true), 4);
  const cost = single((w) => w.conv(w.input('x', [1, 32, 15, 15]), { outChannels: 32, kernel: 3, stride: 2, pad: 'same', group: 32, bias: false }));
  assert.deepEqual(cost.outputs[0].shape, [1, 32, 8, 8]);
  assert.equal(cost.flops, 2 * 32 * 8 * 8 * 1 * 9);
});

test('pooling FLOPs: window over the output map, ceil_mode, global pooling', () => {
  const max = single((w) => w.node('MaxPool', [w.input('x', [1, 4, 15, 15])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0]);
  assert.deepEqual(max.outputs[0].shape, [1, 4, 8, 8]);
  assert.equal(max.flops, 4 * 8 * 8 * 9);
  assert.equal(max.byCategory.pool.count, 1);
  const ceil = single((w) => w.node('AveragePool', [w.input('x', [1, 1, 7, 7])], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })[0]);
  assert.deepEqual(ceil.outputs[0].shape, [1, 1, 4, 4]);
  assert.equal(ceil.flops, 16 * 4);
  const gap = single((w) => w.globalAveragePool(w.input('x', [1, 8, 4, 4])));
  assert.deepEqual(gap.outputs[0].shape, [1, 8, 1, 1]);
  assert.equal(gap.flops, 8 * 4 * 4);
});

test('fully connected FLOPs: Gemm (transB, bias) and batched MatMul', () => {
  const gemm = single((w) => w.gemm(w.flatten(w.input('x', [-1, 4, 5, 5])), 10));
  // Fin×Fout MACs per output row: 2·100·10, + 10 bias adds; Flatten is free
  assert.equal(gemm.flops, 2 * 100 * 10 + 10);
  assert.equal(gemm.byCategory.fc.flops, gemm.flops);
  assert.equal(gemm.byCategory.free.bytes, 0);
  const mm = single((w) => w.matmul(w.input('x', [2, 3, 4, 5]), 6));
  assert.deepEqual(mm.outputs[0].shape, [2, 3, 4, 6]);
  assert.equal(mm.flops, 2 * (2 * 3) * 4 * 5 * 6);
});

test('element-wise ops broadcast; activations and softmax count per element', () => {
  const add = single((w) => w.add(w.input('x', [1, 8, 4, 4]), w.randomWeights('b', [8, 1, 1], 1)));
  assert.deepEqual(add.outputs[0].shape, [1, 8, 4, 4]);
  assert.equal(add.flops, 128);
  const bc = single((w) => w.node('Mul', [w.input('a', [3, 1, 5]), w.input('b', [1, 4, 1])])[0]);
  assert.deepEqual(bc.outputs[0].shape, [3, 4, 5]);
  assert.equal(bc.flops, 60);
  const act = single((w) => w.softmax(w.relu(w.input('x', [1, 10]))));
  assert.equal(act.flops, 10 * 1 + 10 * 5);
});

test('shapes flow through a Shape→Gather→Unsqueeze→Concat→Reshape chain and Constant nodes', () => {
  const w = new OnnxWriter();
  const x = w.input('x', [-1, 16, 3, 3]);
  const shape = w.node('Shape', [x])[0];
  const zero = w.int64Initializer('zero', [], [0]);
  const n = w.node('Gather', [shape, zero], { axis: 0 })[0];
  const axes = w.int64Initializer('axes', [1], [0]);
  const n1 = w.node('Unsqueeze', [n, axes])[0];
  const minus1 = w.int64Initializer('minus1', [1], [-1]);
  const target = w.node('Concat', [n1, minus1], { axis: 0 })[0];
  const flat = w.node('Reshape', [x, target])[0];
  w.output(w.gemm(flat, 10));
  const cost = analyzeModel(w.encode(), { batch: 4 });
  assert.deepEqual(cost.inputs[0].shape, [4, 16, 3, 3]);
  assert.deepEqual(cost.outputs[0].shape, [4, 10]);
  assert.equal(cost.unresolved.length, 0);
  assert.equal(cost.byCategory.fc.flops, 4 * (2 * 144 * 10 + 10));
});

test('unknown op types are reported, never silently counted as zero', () => {
  const w = new OnnxWriter();
  const x = w.input('x', [1, 4]);
  w.output(w.relu(x));
  const model = w.toModel();
  // Insert a custom op between the input and the Relu.
  model.graph!.node!.unshift({ name: 'fancy', opType: 'FancyOp', input: ['x'], output: ['fancy_out'] });
  model.graph!.node![1].input = ['fancy_out'];
  const cost = analyzeModel(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
  assert.deepEqual(cost.unknownOps, ['FancyOp']);
  assert.equal(cost.nodes[0].known, false);
  // The Relu after it has no input shape: unresolved, with a reason.
  assert.deepEqual(cost.unresolved.map((u) => u.opType), ['FancyOp', 'Relu']);
  assert.match(cost.unresolved[1].problem, /unknown/);
});

test('writer round trip: write → read gives the same graph, and onnxruntime runs it', async () => {
  const w = new OnnxWriter({ seed: 11 });
  let x = w.input('input', [-1, 3, 16, 16]);
  x = w.relu(w.conv(x, { outChannels: 8, kernel: 3, stride: 1, pad: 1 }));
  x = w.maxPool(x, { kernel: 2 });
  x = w.averagePool(x, { kernel: 2 });
  x = w.softmax(w.relu(w.gemm(w.flatten(x), 12)));
  w.output(x);
  const written = w.toModel();
  const bytes = w.encode();
  const read = readOnnxModel(bytes);
  const g = read.graph as onnx.GraphProto;
  assert.deepEqual(g.node.map((n) => n.opType), ['Conv', 'Relu', 'MaxPool', 'AveragePool', 'Flatten', 'Gemm', 'Relu', 'Softmax']);
  assert.deepEqual(g.node.map((n) => n.name), written.graph!.node!.map((n) => n.name));
  const convAttrs = Object.fromEntries((g.node[0] as onnx.NodeProto).attribute.map((a) => [a.name, (a.ints ?? []).map(Number)]));
  assert.deepEqual(convAttrs.pads, [1, 1, 1, 1]);
  assert.deepEqual(convAttrs.kernel_shape, [3, 3]);
  assert.deepEqual(g.initializer.map((t) => (t.dims ?? []).map(Number)), [[8, 3, 3, 3], [8], [12, 8 * 4 * 4], [12]]);
  const original = written.graph!.initializer![0];
  assert.deepEqual(tensorValues(g.initializer[0]), tensorValues(original));
  assert.equal(g.input[0].type!.tensorType!.shape!.dim![0].dimParam, 'N');

  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 16 * 16).fill(0.3), [2, 3, 16, 16]) });
  const probs = out[session.outputNames[0]];
  assert.deepEqual(probs.dims, [2, 12]);
  const sum = (probs.data as Float32Array).slice(0, 12).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4);
  await session.release();
});

test('branchy-mnist pieces: shapes match the manifest and every op is costed', () => {
  const dir = join(ROOT, 'models', 'branchy-mnist');
  const seg1 = analyzeModel(join(dir, 'segment-1.onnx'));
  assert.deepEqual(seg1.outputs[0].shape, [1, 8, 14, 14]);
  assert.deepEqual(seg1.unknownOps, []);
  // conv 1→8, 3×3, 28×28 output, bias: 2·8·28·28·9 + 8·28·28
  assert.equal(seg1.byCategory.conv.flops, 2 * 8 * 28 * 28 * 9 + 8 * 28 * 28);
  const exit3 = analyzeModel(join(dir, 'exit-3.onnx'));
  assert.equal(exit3.byCategory.fc.flops, 2 * 288 * 64 + 64 + 2 * 64 * 10 + 10);
});
