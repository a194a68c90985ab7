import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { heldOutDigit } from '@outlet/bench';
import { MultiExitModel } from '@outlet/inference';
import { loadModelPackage } from '@outlet/model-package';
import { importMultiExitModel, SplitError, splitMultiExit, VerificationError, verifySplit } from '@outlet/model-import';
import { onnx, OnnxWriter, toNumber } from '@outlet/onnx-cost';

const INPUT_SHAPE = [-1, 1, 12, 12];

/** A classifier head as the early exits have it: global average pool, flatten, fully connected (+ softmax). */
function head(w: OnnxWriter, feature: string, softmax = true): string {
  const logits = w.gemm(w.flatten(w.globalAveragePool(feature)), 5);
  return softmax ? w.softmax(logits) : logits;
}

/** A conv stack (conv-relu-pool, conv-relu-pool, conv-relu) with two early heads and a final head. */
function chain(options: { valueInfo?: boolean; logitsHead?: boolean; opset?: number; irVersion?: number } = {}) {
  const w = new OnnxWriter({ seed: 7, valueInfo: options.valueInfo ?? true, opset: options.opset, irVersion: options.irVersion });
  const x = w.input('input', INPUT_SHAPE);
  const p1 = w.maxPool(w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), { kernel: 2 });
  const p2 = w.maxPool(w.relu(w.conv(p1, { outChannels: 8, kernel: 3 })), { kernel: 2 });
  const c3 = w.relu(w.conv(p2, { outChannels: 8, kernel: 3 }));
  const e1 = head(w, p1, !options.logitsHead);
  const e2 = head(w, p2);
  const fin = head(w, c3);
  w.output(e1).output(e2).output(fin);
  return { w, p1, p2, c3, e1, e2, fin };
}

const decode = (w: OnnxWriter) => onnx.ModelProto.decode(w.encode());
const encode = (m: onnx.IModelProto) => onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();

/** Deterministic test input (one sample without the batch dimension). */
function sample(n: number, phase: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function dimsOf(v: onnx.IValueInfoProto): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue)));
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'outlet-import-'));
}

test('chain: cuts and segments, verification holds, the written package loads and runs with MultiExitModel', async () => {
  const { w, p1, p2, c3, e1, e2, fin } = chain();
  const split = splitMultiExit(decode(w), { exits: [e1, e2] });
  assert.deepEqual(
    split.exits.map((e) => [e.output, e.cut, e.afterSegment, e.final, e.softmaxAppended]),
    [[e1, p1, 0, false, false], [e2, p2, 1, false, false], [fin, c3, 2, true, false]],
  );
  assert.deepEqual(split.input, { name: 'input', shape: INPUT_SHAPE });
  // Segments: conv-relu-pool, conv-relu-pool, conv-relu; the final head mirrors the early ones.
  assert.deepEqual(split.segments.map((s) => s.graph!.node!.map((n) => n.opType)), [
    ['Conv', 'Relu', 'MaxPool'], ['Conv', 'Relu', 'MaxPool'], ['Conv', 'Relu'],
  ]);
  for (const h of split.heads) assert.deepEqual(h.graph!.node!.map((n) => n.opType), ['GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax']);

  const bytes = w.encode();
  const samples = [sample(144, 0), sample(144, 1)];
  const report = await verifySplit(bytes, split, { samples, random: 4, seed: 3 });
  assert.equal(report.holds, true);
  assert.ok(report.maxError < 1e-5, `max error ${report.maxError}`);
  assert.equal(report.comparisons, 6 * 3);
  assert.deepEqual(report.samples, { data: 2, random: 4 });
  assert.deepEqual(report.perExit.map((p) => p.output), [e1, e2, fin]);
  assert.deepEqual(report.segmentOutputShapes, [[-1, 4, 6, 6], [-1, 8, 3, 3], [-1, 8, 3, 3]]);

  const root = tempDir();
  try {
    const modelPath = join(root, 'model.onnx');
    writeFileSync(modelPath, bytes);
    const dir = join(root, 'models', 'toy');
    const imported = await importMultiExitModel(modelPath, { name: 'toy', exits: [e1, e2], outDir: dir, samples, labels: ['a', 'b', 'c', 'd', 'e'] });
    assert.equal(imported.dir, dir);
    assert.equal(imported.verification.comparisons, (2 + 16) * 3, 'two samples and 16 random inputs by default');
    const pkg = loadModelPackage(dir);
    assert.deepEqual(pkg.manifest.exits, [
      { file: 'exit-1.onnx', after_segment: 0, threshold: 0.9 },
      { file: 'exit-2.onnx', after_segment: 1, threshold: 0.9 },
      { file: 'exit-3.onnx', after_segment: 2, threshold: 0 },
    ]);
    assert.deepEqual(pkg.manifest.input, { name: 'input', datatype: 'FP32', shape: INPUT_SHAPE });
    assert.deepEqual(pkg.manifest.output, { name: fin, datatype: 'FP32', shape: [-1, 5] });
    assert.deepEqual(pkg.manifest.segments.map((s) => s.output_shape), [[-1, 4, 6, 6], [-1, 8, 3, 3], [-1, 8, 3, 3]]);
    assert.deepEqual(readdirSync(join(root, 'models')), ['toy'], 'no temporary folder is left');

    const original = await ort.InferenceSession.create(bytes);
    const model = await MultiExitModel.load(pkg, 'cpu', 1);
    try {
      for (const data of samples) {
        const expected = await original.run({ input: new ort.Tensor('float32', data, [1, 1, 12, 12]) });
        let feature = { data, dims: [1, 1, 12, 12] };
        for (let s = 0; s < 3; s++) {
          feature = await model.runSegment(s, feature);
          const probabilities = await model.runExit(model.exitAfterSegment(s)!, feature);
          const want = expected[[e1, e2, fin][s]].data as Float32Array;
          assert.ok(maxAbsDiff(probabilities, want) <= 1e-6, `exit ${s} differs`);
        }
      }
    } finally {
      await model.release();
      await original.release();
    }

    // A second import to the same folder is refused unless asked to overwrite.
    await assert.rejects(importMultiExitModel(modelPath, { name: 'toy', exits: [e1, e2], outDir: dir, random: 1 }), /already exists; pass overwrite: true/);
    const again = await importMultiExitModel(modelPath, { name: 'toy2', exits: [e1, e2], outDir: dir, random: 1, overwrite: true });
    assert.equal(loadModelPackage(dir).manifest.name, 'toy2');
    assert.equal(again.verification.comparisons, 3);
    assert.deepEqual(readdirSync(join(root, 'models')), ['toy']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('exits given out of order are put in segment order', () => {
  const { w, e1, e2, fin } = chain();
  const split = splitMultiExit(decode(w), { exits: [e2, e1, fin] });
  assert.deepEqual(split.exits.map((e) => [e.output, e.afterSegment]), [[e1, 0], [e2, 1], [fin, 2]]);
});

test('pieces keep shapes, initializers (count and bytes), opset, ir_version and producer', () => {
  const { w } = chain({ opset: 17, irVersion: 8 });
  const model = decode(w);
  const g = model.graph!;
  const names = g.output!.map((o) => o.name!);
  const split = splitMultiExit(model, { exits: names.slice(0, 2) });
  const pieces = [...split.segments, ...split.heads];

  for (const p of pieces) {
    assert.deepEqual(p.opsetImport.map((o) => [o.domain, toNumber(o.version)]), [['', 17]]);
    assert.equal(toNumber(p.irVersion), 8);
    assert.equal(p.producerName, 'outlet-onnx-writer');
    assert.equal(p.graph!.input!.length, 1);
    assert.equal(p.graph!.output!.length, 1);
    assert.notEqual(p.graph!.input![0].name, p.graph!.output![0].name);
  }
  // Every initializer lands in exactly one piece here (no weight is shared), with the same bytes.
  const original = new Map(g.initializer!.map((t) => [t.name!, t]));
  const copied = pieces.flatMap((p) => p.graph!.initializer!);
  assert.equal(copied.length, original.size);
  assert.deepEqual(new Set(copied.map((t) => t.name)), new Set(original.keys()));
  for (const t of copied) {
    const o = original.get(t.name!)!;
    assert.deepEqual(t.dims!.map(toNumber), o.dims!.map(toNumber));
    assert.deepEqual(Buffer.from(t.rawData!), Buffer.from(o.rawData!));
  }
  // I/O shapes: the batch dimension becomes 'batch'; internal value_info is the original's.
  const [s1, s2] = split.segments;
  assert.deepEqual(dimsOf(s1.graph!.input![0]), ['batch', 1, 12, 12]);
  assert.deepEqual(dimsOf(s1.graph!.output![0]), ['batch', 4, 6, 6]);
  assert.deepEqual(dimsOf(s2.graph!.input![0]), ['batch', 4, 6, 6]);
  assert.equal(s1.graph!.input![0].type!.tensorType!.elemType, onnx.TensorProto.DataType.FLOAT);
  const declared = new Map(g.valueInfo!.map((v) => [v.name!, dimsOf(v)]));
  assert.equal(s1.graph!.valueInfo!.length, 2, 'conv and relu outputs of segment 1');
  for (const v of s1.graph!.valueInfo!) assert.deepEqual(dimsOf(v), declared.get(v.name!));
  assert.deepEqual(dimsOf(split.heads[0].graph!.output![0]), ['batch', 5]);
});

test('a graph without value_info: piece I/O shapes are inferred', () => {
  const { w, e1, e2 } = chain({ valueInfo: false });
  const model = decode(w);
  assert.equal(model.graph!.valueInfo!.length, 0);
  const split = splitMultiExit(model, { exits: [e1, e2] });
  assert.deepEqual(split.segments.map((s) => dimsOf(s.graph!.output![0])), [['batch', 4, 6, 6], ['batch', 8, 3, 3], ['batch', 8, 3, 3]]);
});

test('a logits head gets a Softmax appended, and verification compares against softmax of the original', async () => {
  const { w, e1, e2 } = chain({ logitsHead: true });
  const split = splitMultiExit(decode(w), { exits: [e1, e2] });
  assert.deepEqual(split.exits.map((e) => e.softmaxAppended), [true, false, false]);
  const h = split.heads[0].graph!;
  const last = h.node![h.node!.length - 1];
  assert.equal(last.opType, 'Softmax');
  assert.deepEqual(last.output, [e1]);
  assert.equal(h.output![0].name, e1);
  assert.deepEqual(last.input, [`${e1}_logits`]);
  assert.equal(toNumber(last.attribute![0].i), 1, 'the last axis of [batch, 5]');
  const report = await verifySplit(w.encode(), split, { random: 3 });
  assert.equal(report.holds, true);
  assert.ok(report.perExit[0].maxError < 1e-5);
  // The head's output really is probabilities, where the original's is logits.
  const session = await ort.InferenceSession.create(encode(split.heads[0]));
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', sample(144, 2), [1, 4, 6, 6]) });
    const p = out[e1].data as Float32Array;
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  } finally {
    await session.release();
  }
});

test('a residual block whose skip crosses the proposed cut is refused, naming the skip tensor and the nearest valid cut', () => {
  const w = new OnnxWriter({ seed: 2 });
  const x = w.input('input', INPUT_SHAPE);
  const r1 = w.relu(w.conv(x, { outChannels: 4, kernel: 3 }));
  const inner = w.relu(w.conv(r1, { outChannels: 4, kernel: 3 }));
  const r2 = w.relu(w.add(w.conv(inner, { outChannels: 4, kernel: 3 }), r1));
  const e1 = head(w, inner);
  const fin = head(w, r2);
  w.output(e1).output(fin);
  let err: unknown;
  assert.throws(() => splitMultiExit(decode(w), { exits: [e1] }), (e) => ((err = e), e instanceof SplitError));
  const s = err as SplitError;
  assert.equal(s.message.startsWith(`exit '${e1}' branches from '${inner}', but the trunk cannot be cut there: '${r1}' (a skip connection) is also read after the cut`), true, s.message);
  assert.deepEqual(s.crossing, [r1]);
  assert.equal(s.nearestCut, r1);
  assert.match(s.message, new RegExp(`the nearest valid cut is '${r1}'`));
});

test('a head that reads two trunk tensors is refused, naming both', () => {
  const w = new OnnxWriter({ seed: 4 });
  const x = w.input('input', INPUT_SHAPE);
  const p1 = w.maxPool(w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), { kernel: 2 });
  const p2 = w.maxPool(w.relu(w.conv(p1, { outChannels: 4, kernel: 3 })), { kernel: 2 });
  const both = w.node('Concat', [w.flatten(w.globalAveragePool(p1)), w.flatten(w.globalAveragePool(p2))], { axis: 1 })[0];
  const e1 = w.softmax(w.gemm(both, 5));
  const fin = head(w, w.relu(w.conv(p2, { outChannels: 4, kernel: 3 })));
  w.output(e1).output(fin);
  let err: unknown;
  assert.throws(() => splitMultiExit(decode(w), { exits: [e1] }), (e) => ((err = e), e instanceof SplitError));
  const s = err as SplitError;
  assert.deepEqual(s.crossing, [p1, p2]);
  assert.match(s.message, new RegExp(`exit '${e1}' reads 2 trunk tensors \\('${p1}', '${p2}'\\); a head must branch from exactly one`));
  assert.equal(s.nearestCut, p1, 'p2 is computed from p1 alone');
});

test('heads after successive residual blocks split correctly, the final head after the last block', async () => {
  const w = new OnnxWriter({ seed: 5, valueInfo: true });
  const block = (x: string) => w.relu(w.add(w.conv(w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), { outChannels: 4, kernel: 3 }), x));
  const stem = w.relu(w.conv(w.input('input', INPUT_SHAPE), { outChannels: 4, kernel: 3 }));
  const b1 = block(stem);
  const b2 = block(b1);
  const b3 = block(b2);
  const [e1, e2, fin] = [head(w, b1), head(w, b2), head(w, b3)];
  w.output(e1).output(e2).output(fin);
  const split = splitMultiExit(decode(w), { exits: [e1, e2, fin] });
  assert.deepEqual(split.exits.map((e) => [e.cut, e.afterSegment]), [[b1, 0], [b2, 1], [b3, 2]]);
  assert.deepEqual(split.segments.map((s) => s.graph!.node!.length), [2 + 5, 5, 5]);
  const report = await verifySplit(w.encode(), split, { random: 3 });
  assert.ok(report.holds && report.maxError < 1e-5, `max error ${report.maxError}`);
});

test('a head with a fan-out inside and a Constant shared with the trunk: the Constant is copied into each piece', async () => {
  const w = new OnnxWriter({ seed: 6 });
  const x = w.input('input', INPUT_SHAPE);
  const scale = w.constant([1], [0.5]);
  const p1 = w.maxPool(w.node('Mul', [w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), scale])[0], { kernel: 2 });
  // head 1 reads p1 twice (average and max pooling) and the shared Constant
  const pooled = w.node('Concat', [w.flatten(w.globalAveragePool(p1)), w.flatten(w.node('GlobalMaxPool', [p1])[0])], { axis: 1 })[0];
  const e1 = w.softmax(w.gemm(w.node('Mul', [pooled, scale])[0], 5));
  const fin = head(w, w.relu(w.conv(p1, { outChannels: 4, kernel: 3 })));
  w.output(e1).output(fin);
  const split = splitMultiExit(decode(w), { exits: [e1] });
  assert.deepEqual(split.exits.map((e) => e.cut), [p1, split.exits[1].cut]);
  const constantIn = (m: onnx.ModelProto) => m.graph!.node!.filter((n) => n.opType === 'Constant').map((n) => n.output![0]);
  assert.deepEqual(constantIn(split.segments[0]), [scale]);
  assert.deepEqual(constantIn(split.heads[0]), [scale]);
  assert.deepEqual(constantIn(split.segments[1]), []);
  const report = await verifySplit(w.encode(), split, { random: 3 });
  assert.ok(report.holds, `max error ${report.maxError}`);
});

test('two heads sharing head-side nodes branch from the same tensor: refused, one exit per segment', () => {
  const w = new OnnxWriter({ seed: 8 });
  const x = w.input('input', INPUT_SHAPE);
  const p1 = w.maxPool(w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), { kernel: 2 });
  const shared = w.flatten(w.globalAveragePool(p1));
  const e1 = w.softmax(w.gemm(shared, 5));
  const e2 = w.softmax(w.gemm(w.relu(shared), 5)); // branches from inside head 1's path
  const fin = head(w, w.relu(w.conv(p1, { outChannels: 4, kernel: 3 })));
  w.output(e1).output(e2).output(fin);
  assert.throws(() => splitMultiExit(decode(w), { exits: [e1, e2] }), new RegExp(`exits '${e1}' and '${e2}' both branch from '${p1}': a package allows one exit per segment`));
});

test('a head whose output the trunk also uses is refused', () => {
  const w = new OnnxWriter({ seed: 9 });
  const x = w.input('input', INPUT_SHAPE);
  const p1 = w.maxPool(w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), { kernel: 2 });
  const e1 = head(w, p1, false);
  const fin = w.softmax(w.add(head(w, w.relu(w.conv(p1, { outChannels: 4, kernel: 3 })), false), e1));
  w.output(e1).output(fin);
  assert.throws(() => splitMultiExit(decode(w), { exits: [e1] }), (e) => e instanceof SplitError && e.message.startsWith(`exit '${e1}' is a trunk tensor (the final output '${fin}' is computed from it)`));
});

test('exit names: unknown names list the outputs; unlisted outputs and several inputs are refused; old-IR initializer inputs are not inputs', () => {
  const { w, e1, e2, fin } = chain();
  const model = decode(w);
  assert.throws(() => splitMultiExit(model, { exits: ['nope', e1] }), new RegExp(`unknown exit output 'nope'; the graph's outputs are '${e1}', '${e2}', '${fin}'`));
  assert.throws(() => splitMultiExit(model, { exits: [e1] }), new RegExp(`the graph outputs '${e2}', '${fin}' are not listed as exits`));

  const two = new OnnxWriter();
  two.output(two.add(two.input('a', [1, 4]), two.input('b', [1, 4])));
  assert.throws(() => splitMultiExit(decode(two), { exits: [] }), /the model must have exactly 1 input; it has 2 \('a', 'b'\)/);

  // IR 3 style: every initializer also listed as a graph input.
  const old = w.toModel();
  old.graph!.input = [...old.graph!.input!, ...old.graph!.initializer!.map((t) => ({ name: t.name, type: { tensorType: { elemType: t.dataType } } }))];
  const split = splitMultiExit(onnx.ModelProto.decode(encode(old)), { exits: [e1, e2] });
  assert.equal(split.input.name, 'input');
  const s1 = split.segments[0].graph!;
  assert.deepEqual(s1.input!.slice(1).map((i) => i.name), s1.initializer!.map((t) => t.name), 'a piece lists the initializers it uses as inputs, as the original did');
});

test('samples of the wrong size are refused, naming the sample', async () => {
  const { w, e1, e2 } = chain();
  const split = splitMultiExit(decode(w), { exits: [e1, e2] });
  await assert.rejects(verifySplit(w.encode(), split, { samples: [sample(144, 0), new Float32Array(3)] }), /sample 1 has 3 values; the input 'input' \[1, 12, 12\] \(without the batch dimension\) needs 144/);
});

test('failed verification throws VerificationError and writes nothing', async () => {
  // A head that adds fresh random noise (RandomNormalLike) cannot reproduce the original's output.
  const { w, e1, e2 } = chain();
  const m = w.toModel();
  const nodes = m.graph!.node!;
  const softmax = nodes.find((n) => n.output![0] === e1)!;
  const logits = softmax.input![0];
  nodes.splice(nodes.indexOf(softmax), 0,
    { name: 'noise', opType: 'RandomNormalLike', input: [logits], output: ['noise'], attribute: [{ name: 'scale', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.5 }] },
    { name: 'noisy', opType: 'Add', input: [logits, 'noise'], output: ['noisy'] },
  );
  softmax.input = ['noisy'];
  const root = tempDir();
  try {
    const modelPath = join(root, 'noisy.onnx');
    writeFileSync(modelPath, encode(m));
    const outDir = join(root, 'out', 'noisy');
    let err: unknown;
    await assert.rejects(importMultiExitModel(modelPath, { name: 'noisy', exits: [e1, e2], outDir, random: 4 }), (e) => ((err = e), e instanceof VerificationError));
    const report = (err as VerificationError).report;
    assert.equal(report.holds, false);
    assert.equal(report.worst.exit, e1);
    assert.ok(report.perExit[0].maxError > 1e-3);
    assert.ok(report.perExit[1].maxError < 1e-5 && report.perExit[2].maxError < 1e-5, 'the other exits agree');
    assert.match((err as Error).message, new RegExp(`exit '${e1}'`));
    assert.equal(existsSync(outDir), false);
    assert.deepEqual(readdirSync(root), ['noisy.onnx'], 'no folder, temporary or not');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a model with only the final exit: its head is the classifier tail (pooling, flatten, Gemm, Softmax)', () => {
  const w = new OnnxWriter({ seed: 10 });
  const x = w.input('input', INPUT_SHAPE);
  const c2 = w.relu(w.conv(w.relu(w.conv(x, { outChannels: 4, kernel: 3 })), { outChannels: 4, kernel: 3 }));
  const fin = head(w, c2);
  w.output(fin);
  const split = splitMultiExit(decode(w), { exits: [] });
  assert.deepEqual(split.exits.map((e) => [e.output, e.cut, e.afterSegment, e.final]), [[fin, c2, 0, true]]);
  assert.deepEqual(split.segments[0].graph!.node!.map((n) => n.opType), ['Conv', 'Relu', 'Conv', 'Relu']);
});

/**
 * branchy-mnist's pieces (exported by torch.onnx.export) joined into one multi-output graph, as
 * a one-file export of the network would be: every piece's names get a prefix ('segment-1/', ...)
 * and its input is wired to the tensor that feeds it.
 */
function joinedBranchyMnist(): onnx.IModelProto {
  const dir = join(__dirname, '..', '..', '..', 'models', 'branchy-mnist');
  const pkg = loadModelPackage(dir);
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  const outputs: onnx.IValueInfoProto[] = [];
  let input: onnx.IValueInfoProto | undefined;
  let feature = '';
  const add = (file: string, feed: string): { output: onnx.IValueInfoProto; model: onnx.ModelProto } => {
    const model = onnx.ModelProto.decode(readFileSync(join(dir, file)));
    const g = model.graph!;
    const prefix = file.replace('.onnx', '/');
    const inName = g.input![0].name!;
    const rename = (n: string) => (n === '' ? '' : n === inName ? feed || n : prefix + n);
    for (const n of g.node!) nodes.push({ ...n, name: rename(n.name!), input: n.input!.map(rename), output: n.output!.map(rename) });
    for (const t of g.initializer!) initializers.push({ ...t, name: rename(t.name!) });
    return { output: { ...g.output![0], name: rename(g.output![0].name!) }, model };
  };
  pkg.manifest.segments.forEach((s, k) => {
    const { output, model } = add(s.file, feature);
    input ??= model.graph!.input![0];
    feature = output.name!;
    const e = pkg.manifest.exits.find((x) => x.after_segment === k);
    if (e) outputs.push(add(e.file, feature).output);
  });
  return { irVersion: 7, producerName: 'pytorch', opsetImport: [{ domain: '', version: 13 }], graph: { name: 'branchy', node: nodes, initializer: initializers, input: [input!], output: outputs } };
}

test('branchy-mnist joined into one graph splits back into its own pieces, verified on held-out digits', async () => {
  const joined = joinedBranchyMnist();
  const split = splitMultiExit(onnx.ModelProto.decode(encode(joined)), { exits: ['exit-1/probabilities', 'exit-2/probabilities'] });
  assert.deepEqual(
    split.exits.map((e) => [e.output, e.cut, e.afterSegment, e.softmaxAppended]),
    [1, 2, 3].map((k) => [`exit-${k}/probabilities`, `segment-${k}/feature`, k - 1, false]),
  );
  // Each piece holds exactly the nodes of the package's file it came from (segment 1's Constants included).
  const nodeNames = (m: onnx.IModelProto) => m.graph!.node!.map((n) => n.name);
  const byPrefix = (p: string) => joined.graph!.node!.filter((n) => n.name!.startsWith(p)).map((n) => n.name);
  split.segments.forEach((s, k) => assert.deepEqual(nodeNames(s), byPrefix(`segment-${k + 1}/`)));
  split.heads.forEach((h, k) => assert.deepEqual(nodeNames(h), byPrefix(`exit-${k + 1}/`)));
  assert.ok(nodeNames(split.segments[0]).includes('segment-1//Constant'));

  const digits = [[3, 0], [7, 1], [1, 2]].map(([label, nth]) => Float32Array.from(heldOutDigit(label, nth)));
  const report = await verifySplit(encode(joined), split, { samples: digits, random: 2 });
  assert.ok(report.holds && report.maxError < 1e-5, `max error ${report.maxError}`);
  assert.equal(report.comparisons, 5 * 3);
  assert.deepEqual(report.segmentOutputShapes, [[-1, 8, 14, 14], [-1, 16, 7, 7], [-1, 32, 3, 3]]);
});
