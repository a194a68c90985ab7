// outlet predict against measurement on the real architectures no fit has seen: the 16 generated
// stacks (ResNet basic blocks, VGG, MobileNet, MLP), every segment and exit head of the packages
// in models/, and training/*.onnx. Each file is measured alone with the protocol of `outlet
// predict --measure` (warm, pinned, median of whole calls), in two passes over all files; the
// measured time is the mean of the two medians, and the noise floor is how often the two passes
// agree within ±10 % / ±20 %. Run after `npm run build`:
//   node scripts/predict-real-architectures.js [cpu-util=0] [runs=60] [predictor=models/kernel-predictor.json] [--json out.json]
const { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { defaultMeasureCpus, generateArchitectures, loadKernelPredictor, measureModels, predictTarget } = require('../dist/libs/predictor/src');
const { loadModelPackages } = require('../dist/libs/model-package/src');

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : undefined;
const [cpuUtil = '0', runs = '60', predictorPath] = args;
const pct = (a, b) => (100 * (a - b)) / b;

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
  const u = Number(cpuUtil);
  const rows = [];
  try {
    for (const f of files) {
      const report = await predictTarget(predictor, f.path, { ep: 'cpu', threads: 1, cpuUtil: u });
      rows.push({ id: f.id, predicted_ms: report.pieces[0].total_ms, passes: [] });
    }
    for (let pass = 0; pass < 2; pass++) {
      for (const [i, f] of files.entries()) {
        const m = await measureModels([{ id: f.id, bytes: readFileSync(f.path) }], {
          ep: 'cpu', threads: 1, levels: [u], warmup: 3, runs: Number(runs), plainOnly: true, cpus: defaultMeasureCpus(1),
        });
        rows[i].passes.push(m.get(f.id)[0].run_ms);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const r of rows) {
    r.measured_ms = (r.passes[0] + r.passes[1]) / 2;
    r.error_pct = pct(r.predicted_ms, r.measured_ms);
    r.noise_pct = pct(r.passes[1], r.passes[0]);
    console.log(`${r.id.padEnd(36)} predicted ${r.predicted_ms.toFixed(4).padStart(9)} ms  measured ${r.measured_ms.toFixed(4).padStart(9)} ms  ${r.error_pct.toFixed(1).padStart(6)} %   (pass 2 vs 1: ${r.noise_pct.toFixed(1)} %)`);
  }
  const share = (key, t) => rows.filter((r) => Math.abs(r[key]) <= t).length;
  const mape = (key) => (rows.reduce((s, r) => s + Math.abs(r[key]), 0) / rows.length).toFixed(1);
  console.log(`cpu, 1 thread, u=${cpuUtil}: ${share('error_pct', 10)} of ${rows.length} within ±10 % (${((100 * share('error_pct', 10)) / rows.length).toFixed(0)} %), ${share('error_pct', 20)} within ±20 %; MAPE ${mape('error_pct')} %`);
  console.log(`noise floor (pass 2 vs pass 1): ${share('noise_pct', 10)} of ${rows.length} within ±10 %, ${share('noise_pct', 20)} within ±20 %; MAPE ${mape('noise_pct')} %`);
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(rows, null, 1)}\n`);
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
