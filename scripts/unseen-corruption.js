// Corruptions the drift benchmark does not use (invert, salt-and-pepper, a 3x3 box blur), sent one
// after another to a running system's gateway: each answer's label against the model's own final
// exit on the same input, computed in process. Agreement over the first 1000 tasks and after them.
//   npm run build && OUTLET_AUDIT_RATE=0.25 npm start   (another shell)
//   node scripts/unseen-corruption.js invert 2000 [http://localhost:3000]
const { join } = require('node:path');
const path = join(__dirname, '..', 'dist', 'libs');
const { MultiExitModel, argMax } = require(path + '/inference/src');
const { loadModelPackage } = require(path + '/model-package/src');
const drift = require(path + '/bench/src/drift');
const { heldOutDigit } = require(path + '/bench/src/mnist');
const kind = process.argv[2] || 'invert';
const n = Number(process.argv[3] || 2000);
const gateway = process.argv[4] || 'http://localhost:3000';
const corrupt = (x) => {
  if (kind === 'invert') return x.map((v) => 1 - v);
  if (kind === 'saltpepper') { let s = 7; return x.map((v) => { s = (s * 1103515245 + 12345) % 2147483648; const r = s / 2147483648; return r < 0.08 ? 1 : r < 0.16 ? 0 : v; }); }
  if (kind === 'blur') { const o = new Float32Array(784); for (let y = 0; y < 28; y++) for (let xx = 0; xx < 28; xx++) { let s = 0, c = 0; for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) { const yy = y + dy, x2 = xx + dx; if (yy >= 0 && yy < 28 && x2 >= 0 && x2 < 28) { s += x[yy * 28 + x2]; c++; } } o[y * 28 + xx] = s / c; } return o; }
  throw new Error(`unknown corruption '${kind}': invert, saltpepper or blur`);
};
(async () => {
  const pkg = loadModelPackage(join(__dirname, '..', 'models', 'branchy-mnist'));
  const model = await MultiExitModel.load(pkg, 'cpu', 1, { fused: true });
  const pool = drift.seededShuffle(drift.heldOutPool(), 5);
  const res = [];
  for (let i = 0; i < n; i++) {
    const d = pool[i % pool.length];
    const x = Float32Array.from(corrupt(Float32Array.from(heldOutDigit(d.label, d.nth))));
    let f = { data: x, dims: [1, 1, 28, 28] }, probs;
    for (let s = 0; s < 3; s++) { const e = model.exitAfterSegment(s); if (e === undefined) f = await model.runSegment(s, f); else { const r = await model.runSegmentWithExit(s, f); f = r.feature; probs = r.probabilities; } }
    const final = argMax(probs);
    const body = { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: Array.from(x) }] };
    const r = await (await fetch(`${gateway}/v2/models/branchy-mnist/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
    res.push({ agree: argMax(r.outputs[0].data) === final ? 1 : 0, exit: Number(r.parameters.exit_index), v: r.parameters.threshold_version });
  }
  const mean = (a) => a.reduce((s, r) => s + r.agree, 0) / a.length;
  console.log(kind, 'first 1000', mean(res.slice(0, 1000)).toFixed(4), 'after 1000', mean(res.slice(1000)).toFixed(4), 'n after', res.length - 1000, 'last version', res[res.length - 1].v, 'mean exit', (res.slice(1000).reduce((s, r) => s + r.exit, 0) / (res.length - 1000)).toFixed(2));
  await model.release();
})();
