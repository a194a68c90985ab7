#!/usr/bin/env node
// Checks models/branchy-mnist/*.onnx with onnxruntime-node against the PyTorch outputs that
// training/train_branchy_mnist.py wrote to a reference file, and checks the manifest.
//
//   node training/verify_branchy_mnist.js [/tmp/branchy-mnist-reference.json]
//
// Feeds the segments in sequence (each session's single input/output, by inputNames[0] and
// outputNames[0]), runs every exit on its segment's feature, and fails when any value differs
// from PyTorch by more than 1e-5 (features) / 1e-6 (probabilities), or a shape is off.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'models', 'branchy-mnist');
const refPath = process.argv[2] || '/tmp/branchy-mnist-reference.json';

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function main() {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));
  const opts = { intraOpNumThreads: 1 };
  let worst = 0;
  let x = new ort.Tensor('float32', Float32Array.from(ref.input), [ref.n, 1, 28, 28]);
  for (let k = 0; k < manifest.segments.length; k++) {
    const seg = await ort.InferenceSession.create(path.join(dir, manifest.segments[k].file), opts);
    const exit = await ort.InferenceSession.create(path.join(dir, manifest.exits[k].file), opts);
    if (seg.inputNames.length !== 1 || seg.outputNames.length !== 1) throw new Error('segment io');
    if (exit.inputNames.length !== 1 || exit.outputNames.length !== 1) throw new Error('exit io');
    const f = (await seg.run({ [seg.inputNames[0]]: x }))[seg.outputNames[0]];
    const want = manifest.segments[k].output_shape.slice(1);
    if (JSON.stringify(f.dims.slice(1)) !== JSON.stringify(want)) {
      throw new Error(`segment ${k} dims ${f.dims} vs manifest ${want}`);
    }
    const p = (await exit.run({ [exit.inputNames[0]]: f }))[exit.outputNames[0]];
    if (JSON.stringify(p.dims) !== JSON.stringify([ref.n, 10])) throw new Error(`exit ${k} dims ${p.dims}`);
    const df = maxAbsDiff(f.data, ref.features[k]);
    const dp = maxAbsDiff(p.data, ref.probabilities[k]);
    worst = Math.max(worst, df, dp);
    console.log(
      `segment ${k} ${seg.inputNames[0]} -> ${seg.outputNames[0]} [${f.dims}] max|diff| ${df.toExponential(2)}; ` +
        `exit ${k} ${exit.inputNames[0]} -> ${exit.outputNames[0]} [${p.dims}] max|diff| ${dp.toExponential(2)}`,
    );
    if (df > 1e-5 || dp > 1e-6) throw new Error(`mismatch at segment/exit ${k}`);
    x = f;
  }
  console.log(`OK: ONNX matches PyTorch on ${ref.n} test digits (worst ${worst.toExponential(2)})`);
}

main().catch((e) => {
  console.error('FAILED:', e.message);
  process.exit(1);
});
