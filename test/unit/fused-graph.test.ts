import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { heldOutDigit, MNIST_SIDE, upscaleNearest } from '@outlet/bench';
import { Feature, fuseSegmentGraph, fuseSegmentWithHead, MultiExitModel } from '@outlet/inference';
import { loadModelPackage } from '@outlet/model-package';
import { onnx, OnnxWriter } from '@outlet/onnx-cost';

const ROOT = join(__dirname, '..', '..', '..');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** A held-out digit shaped as the package's input (branchy-bench takes it upscaled). */
function digitInput(shape: number[], label: number, nth: number): Feature {
  const side = shape[shape.length - 1];
  const pixels = heldOutDigit(label, nth);
  const data = side === MNIST_SIDE ? Float32Array.from(pixels) : upscaleNearest(pixels, MNIST_SIDE, side / MNIST_SIDE);
  return { data, dims: [1, ...shape.slice(1)] };
}

const PACKAGES = [
  { dir: join(ROOT, 'models', 'branchy-mnist'), digits: [[3, 0], [7, 1], [1, 2]] },
  { dir: join(ROOT, 'models', 'branchy-bench'), digits: [[2, 0], [8, 1]] },
  // untrained fixtures with slow segments / slow heads: one input each keeps the test short
  { dir: join(ROOT, 'test', 'fixtures', 'models', 'slow-exit'), digits: [[4, 0]] },
  { dir: join(ROOT, 'test', 'fixtures', 'models', 'slow-head'), digits: [[5, 0]] },
];

for (const { dir, digits } of PACKAGES) {
  const name = dir.split('/').slice(-1)[0];
  test(`${name}: runSegmentWithExit matches runSegment + runExit on held-out digits (max abs diff <= 1e-5)`, async () => {
    const model = await MultiExitModel.load(loadModelPackage(dir), 'cpu', 1, { fused: true });
    try {
      const m = model.manifest;
      let checked = 0;
      for (const [label, nth] of digits) {
        let feature = digitInput(m.input.shape, label, nth);
        for (let s = 0; s < m.segments.length; s++) {
          const plain = await model.runSegment(s, feature);
          const exit = model.exitAfterSegment(s);
          if (exit !== undefined) {
            const probabilities = await model.runExit(exit, plain);
            const fused = await model.runSegmentWithExit(s, feature);
            assert.deepEqual(fused.feature.dims, plain.dims);
            assert.ok(maxAbsDiff(fused.feature.data, plain.data) <= 1e-5, `${name} segment ${s}: feature differs`);
            assert.ok(maxAbsDiff(fused.probabilities, probabilities) <= 1e-5, `${name} exit ${exit}: probabilities differ`);
            checked += 1;
          }
          feature = plain;
        }
      }
      assert.equal(checked, digits.length * m.exits.length);
    } finally {
      await model.release();
    }
  });
}

test('runSegmentWithExit needs fused sessions and an exit after the segment', async () => {
  const model = await MultiExitModel.load(loadModelPackage(join(ROOT, 'models', 'branchy-mnist')), 'cpu', 1);
  try {
    const input = digitInput(model.manifest.input.shape, 0, 0);
    await assert.rejects(model.runSegmentWithExit(0, input), /not loaded here \(load with fused: true\)/);
    await assert.rejects(model.runSegmentWithExit(7, input), /segment 7 of branchy-mnist has no exit head after it/);
  } finally {
    await model.release();
  }
});

/** A small conv segment and a conv + fc head written by two writers with the same seed, so their names coincide. */
function writerPair(): { segment: Uint8Array; head: Uint8Array } {
  const s = new OnnxWriter({ seed: 3 });
  s.output(s.relu(s.conv(s.input('x', [-1, 2, 6, 6]), { outChannels: 4, kernel: 3 })));
  const h = new OnnxWriter({ seed: 3 });
  h.output(h.softmax(h.gemm(h.flatten(h.relu(h.conv(h.input('f', [-1, 4, 6, 6]), { outChannels: 4, kernel: 3 }))), 10)));
  return { segment: s.encode(), head: h.encode() };
}

test('fusing graphs whose names clash: the head is renamed, outputs keep their names and values', async () => {
  const { segment, head } = writerPair();
  const fused = fuseSegmentGraph(segment, head);
  const model = onnx.ModelProto.decode(fused.bytes);
  const g = model.graph!;
  assert.deepEqual(g.output!.map((o) => o.name), [fused.featureOutput, fused.probabilitiesOutput]);
  assert.deepEqual(g.input!.map((i) => i.name), ['x']);
  const initializers = g.initializer!.map((t) => t.name);
  assert.equal(new Set(initializers).size, initializers.length, 'initializer names are unique');
  const produced = g.node!.flatMap((n) => n.output!);
  assert.equal(new Set(produced).size, produced.length, 'tensor names are unique');
  assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 13]]);

  const x = new ort.Tensor('float32', Float32Array.from({ length: 72 }, (_, i) => Math.sin(i)), [1, 2, 6, 6]);
  const [segSession, headSession, fusedSession] = await Promise.all([segment, head, fused.bytes].map((b) => ort.InferenceSession.create(b)));
  try {
    const feature = (await segSession.run({ x }))[segSession.outputNames[0]];
    const probabilities = (await headSession.run({ f: feature }))[headSession.outputNames[0]];
    const both = await fusedSession.run({ x });
    assert.ok(maxAbsDiff(both[fused.featureOutput].data as Float32Array, feature.data as Float32Array) <= 1e-6);
    assert.ok(maxAbsDiff(both[fused.probabilitiesOutput].data as Float32Array, probabilities.data as Float32Array) <= 1e-6);
  } finally {
    await Promise.all([segSession, headSession, fusedSession].map((s) => s.release()));
  }
});

test('fusing refuses models that are not one input to one output, with a clear error', () => {
  const { segment, head } = writerPair();
  const two = new OnnxWriter();
  two.output(two.add(two.input('a', [1, 4, 6, 6]), two.input('b', [1, 4, 6, 6])));
  assert.throws(() => fuseSegmentWithHead(two.encode(), head), /the segment must have exactly 1 input, it has 2 \(a, b\)/);
  assert.throws(() => fuseSegmentWithHead(segment, two.encode()), /the exit head must have exactly 1 input, it has 2/);

  const twoOut = new OnnxWriter();
  const x = twoOut.input('x', [1, 4, 6, 6]);
  twoOut.output(twoOut.relu(x)).output(twoOut.softmax(x));
  assert.throws(() => fuseSegmentWithHead(twoOut.encode(), head), /the segment must have exactly 1 output, it has 2/);

  assert.throws(() => fuseSegmentWithHead(Uint8Array.from([0xff, 0xff, 0xff, 0x0f, 0x08]), head), /the segment is not a readable ONNX model/);

  const wrong = new OnnxWriter();
  wrong.output(wrong.softmax(wrong.flatten(wrong.input('f', [-1, 3, 6, 6]))));
  assert.throws(() => fuseSegmentWithHead(segment, wrong.encode()), /does not fit the head's input 'f' \[N, 3, 6, 6\]/);
});
