// outlet predict against `outlet predict --measure` on the real architectures no fit has seen:
// the 16 generated stacks (ResNet basic blocks, VGG, MobileNet, MLP), every segment and exit head
// of the packages in models/, and training/*.onnx — each measured alone, as `outlet predict
// --measure` does (warm, pinned, median), at one load level. Run after `npm run build`:
//   node scripts/predict-real-architectures.js [cpu-util=0] [runs=60] [predictor=models/kernel-predictor.json]
const { mkdtempSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { generateArchitectures, loadKernelPredictor, predictTarget } = require('../dist/libs/predictor/src');
const { loadModelPackages } = require('../dist/libs/model-package/src');

const [cpuUtil = '0', runs = '60', predictorPath] = process.argv.slice(2);
(async () => {
  const predictor = loadKernelPredictor(predictorPath);
  if (!predictor) throw new Error('no kernel predictor: run `outlet predictor fit-kernels` first');
  const dir = mkdtempSync(join(tmpdir(), 'outlet-real-'));
  const files = generateArchitectures().map((a) => {
    const path = join(dir, `${a.id}.onnx`);
    writeFileSync(path, a.bytes);
    return { id: a.id, path };
  });
  for (const [name, pkg] of loadModelPackages('models')) {
    for (const p of [...pkg.manifest.segments, ...pkg.manifest.exits]) files.push({ id: `${name}/${p.file}`, path: join(pkg.dir, p.file) });
  }
  for (const f of readdirSync('training').filter((f) => f.endsWith('.onnx'))) files.push({ id: `training/${f}`, path: join('training', f) });
  const errors = [];
  try {
    for (const f of files) {
      const r = await predictTarget(predictor, f.path, { ep: 'cpu', threads: 1, cpuUtil: Number(cpuUtil), measure: true, runs: Number(runs) });
      const piece = r.pieces[0];
      const error = (100 * (piece.total_ms - piece.measured_ms)) / piece.measured_ms;
      errors.push(Math.abs(error));
      console.log(`${f.id.padEnd(36)} predicted ${piece.total_ms.toFixed(4).padStart(9)} ms  measured ${piece.measured_ms.toFixed(4).padStart(9)} ms  ${error.toFixed(1).padStart(6)} %  (noise ±${piece.measured_noise_pct} %)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const share = (t) => errors.filter((e) => e <= t).length;
  console.log(`cpu, 1 thread, u=${cpuUtil}: ${share(10)} of ${errors.length} within ±10 % (${((100 * share(10)) / errors.length).toFixed(0)} %), ${share(20)} within ±20 %; MAPE ${(errors.reduce((a, b) => a + b, 0) / errors.length).toFixed(1)} %`);
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
