// The shipped and this machine's adapted kernel predictor on the 11 larger architectures
// (generateLargerArchitectures: ResNet, VGG and MobileNet stacks at 64-160 px, two MLPs) that none
// of the fit, adapt's blocks or `outlet predictor adapt --evaluate` contains. Measured and scored
// as `--evaluate` does (compareOnArchitectures: adapt's protocol, four passes, the truth their
// median, the noise floor how often one pass alone comes within ±10 % of it). Run after `npm run
// build` and `outlet predictor adapt [--threads N]`:
//   node scripts/predict-larger-architectures.js [threads=1] [--json out.json]
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const P = require('../dist/libs/predictor/src');
const { describeMachine } = require('../dist/libs/profiler/src');
const { predictorsHome } = require('../dist/libs/model-package/src');

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : undefined;
const threads = Number(args[0] ?? 1);

(async () => {
  const shipped = P.loadKernelPredictor(join(predictorsHome(), 'kernel-predictor.json'));
  const adaptedPath = P.adaptedPredictorPath('cpu', threads);
  const adapted = P.loadKernelPredictor(adaptedPath);
  if (!adapted) throw new Error(`no adapted predictor at ${adaptedPath}: run \`outlet predictor adapt --threads ${threads}\` first`);
  const { before, after, details } = await P.compareOnArchitectures(shipped, adapted, P.generateLargerArchitectures(), { ep: 'cpu', threads });
  const pct = (p, m) => Number(((100 * (p - m)) / m).toFixed(1));
  const rows = details.map((d) => ({ id: d.id, measured_ms: d.measured_ms, worst_pass_pct: Number(d.noise_pct.toFixed(1)), shipped_pct: pct(d.before_ms, d.measured_ms), adapted_pct: pct(d.after_ms, d.measured_ms) }));
  console.table(rows);
  const of = (share) => Math.round(share * rows.length);
  const summary = {
    threads,
    cpu: describeMachine().cpu_model,
    at: new Date().toISOString(),
    adapted: adaptedPath,
    within_10pct: { shipped: of(before.within_10pct), adapted: of(after.within_10pct), of: rows.length },
    noise_floor_pct: Math.round(100 * after.noise_within_10pct),
  };
  console.log(`${threads} thread(s): within ±10 %: shipped ${summary.within_10pct.shipped}, adapted ${summary.within_10pct.adapted} of ${rows.length}; one pass alone within ±10 % of the passes' median: ${summary.noise_floor_pct} %`);
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ ...summary, rows }, null, 1)}\n`);
  process.exit(0);
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
