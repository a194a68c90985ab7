#!/usr/bin/env node
// Times every segment and exit head of an Outlet model package with onnxruntime-node on ONE CPU
// thread (intraOpNumThreads 1, interOpNumThreads 1), batch 1, and reports each exit's max softmax
// probability on a few inputs (uniform random pixels, all zeros, all ones, +-1000).
//
//   node training/time_model.js <model dir> [--runs 15] [--json]
//
// Segments are fed in sequence by their single input/output (inputNames[0] / outputNames[0]);
// exit k runs on the feature of the segment named by its after_segment.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function inputs(shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  let seed = 12345;
  const rnd = new Float32Array(n).map(() => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) / 16777216;
  });
  return {
    random: rnd,
    zeros: new Float32Array(n),
    ones: new Float32Array(n).fill(1),
    plus1000: new Float32Array(n).fill(1000),
    minus1000: new Float32Array(n).fill(-1000),
  };
}

async function timeRun(session, feeds, runs) {
  for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
  const ms = [];
  let out;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    out = await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms, out: out[session.outputNames[0]] };
}

async function main() {
  const args = process.argv.slice(2);
  const dir = path.resolve(args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) || '.');
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 15;
  const asJson = args.includes('--json');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
  const open = (f) => ort.InferenceSession.create(path.join(dir, f), opts);
  const segs = await Promise.all(manifest.segments.map((s) => open(s.file)));
  const exits = await Promise.all(manifest.exits.map((e) => open(e.file)));

  const shape = manifest.input.shape.map((d) => (d < 0 ? 1 : d));
  const result = { model: manifest.name, threads: 1, batch: 1, runs, segments_ms: [], exits_ms: [], max_prob: {} };
  const ins = inputs(shape);
  for (const [name, data] of Object.entries(ins)) {
    let x = new ort.Tensor('float32', data, shape);
    const feats = [];
    for (let k = 0; k < segs.length; k++) {
      const s = segs[k];
      if (name === 'random') {
        const { ms, out } = await timeRun(s, { [s.inputNames[0]]: x }, runs);
        result.segments_ms.push(+median(ms).toFixed(2));
        x = out;
      } else {
        x = (await s.run({ [s.inputNames[0]]: x }))[s.outputNames[0]];
      }
      feats.push(x);
    }
    result.max_prob[name] = [];
    for (let k = 0; k < exits.length; k++) {
      const e = exits[k];
      const feeds = { [e.inputNames[0]]: feats[manifest.exits[k].after_segment] };
      let p;
      if (name === 'random') {
        const { ms, out } = await timeRun(e, feeds, runs);
        result.exits_ms.push(+median(ms).toFixed(2));
        p = out;
      } else {
        p = (await e.run(feeds))[e.outputNames[0]];
      }
      const probs = Array.from(p.data);
      const sum = probs.reduce((a, b) => a + b, 0);
      if (p.dims.join() !== '1,10' || Math.abs(sum - 1) > 1e-4) throw new Error(`exit ${k}: dims ${p.dims} sum ${sum}`);
      result.max_prob[name].push(+Math.max(...probs).toFixed(6));
    }
  }
  if (asJson) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`${manifest.name}: median of ${runs} runs, batch 1, 1 thread`);
    result.segments_ms.forEach((t, k) => console.log(`  segment ${k}: ${t} ms`));
    result.exits_ms.forEach((t, k) => console.log(`  exit ${k}:    ${t} ms`));
    for (const [name, mp] of Object.entries(result.max_prob)) console.log(`  max prob (${name} input): ${mp.join(', ')}`);
  }
}

main().catch((e) => {
  console.error('FAILED:', e.message);
  process.exit(1);
});
