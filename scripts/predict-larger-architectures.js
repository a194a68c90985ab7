// The shipped and this machine's adapted kernel predictor on 11 larger architectures that neither
// the fit, adapt's blocks nor `outlet predictor adapt --evaluate` contain: ResNet, VGG and
// MobileNet stacks at 64-160 px and two MLPs, the kind of network a node serves (0.1-10 ms here).
// Each is measured with adapt's protocol (ADAPT_MEASURE, pinned) in two passes; the truth is the
// passes' mean, the noise floor how often the passes agree within ±10 %. Run after `npm run build`
// and `outlet predictor adapt [--threads N]`:
//   node scripts/predict-larger-architectures.js [threads=1] [--json out.json]
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const P = require('../dist/libs/predictor/src');
const { OnnxWriter } = require('../dist/libs/onnx-cost/src');
const { LoadGenerator, describeMachine } = require('../dist/libs/profiler/src');
const { modelsHome } = require('../dist/libs/model-package/src');

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonOut = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : undefined;
const threads = Number(args[0] ?? 1);

const archs = [];
const add = (id, build) => {
  const w = new OnnxWriter({ seed: archs.length + 501 });
  w.output(build(w));
  archs.push({ id, bytes: w.encode() });
};
for (const [width, res] of [[32, 96], [16, 160], [64, 64]]) {
  add(`resnet-w${width}-r${res}`, (w) => {
    let y = w.relu(P.batchNorm(w, w.conv(w.input('input', [-1, 3, res, res]), { outChannels: width, kernel: 3, pad: 1, bias: false })));
    y = P.resnetBlock(w, y, width, 1);
    y = P.resnetBlock(w, y, width * 2, 2);
    y = P.resnetBlock(w, y, width * 4, 2);
    return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
  });
}
for (const [width, res] of [[16, 128], [32, 96], [24, 160]]) {
  add(`vgg-w${width}-r${res}`, (w) => {
    let y = w.input('input', [-1, 3, res, res]);
    for (const c of [width, width * 2, width * 4]) y = P.vggStage(w, y, c, 2);
    return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
  });
}
for (const [width, res] of [[32, 160], [24, 128], [48, 64]]) {
  add(`mobilenet-w${width}-r${res}`, (w) => {
    let y = P.relu6(w, P.batchNorm(w, w.conv(w.input('input', [-1, 3, res, res]), { outChannels: width, kernel: 3, stride: 2, pad: 1, bias: false })));
    for (const [c, s] of [[2, 1], [2, 2], [4, 1], [4, 2]]) y = P.mobilenetBlock(w, y, width * c, s);
    return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
  });
}
for (const [fin, hidden] of [[1024, 2048], [2048, 512]]) {
  add(`mlp-${fin}-${hidden}`, (w) => w.softmax(w.gemm(w.relu(w.gemm(w.relu(w.gemm(w.input('input', [-1, fin]), hidden)), hidden)), 10)));
}

(async () => {
  const shipped = P.loadKernelPredictor(join(modelsHome(), 'kernel-predictor.json'));
  const adaptedPath = P.adaptedPredictorPath('cpu', threads);
  const adapted = P.loadKernelPredictor(adaptedPath);
  if (!adapted) throw new Error(`no adapted predictor at ${adaptedPath}: run \`outlet predictor adapt --threads ${threads}\` first`);
  const kernels = new Map();
  for (const a of archs) kernels.set(a.id, await P.runtimeKernels(a.bytes, 'cpu', threads));
  const load = new LoadGenerator();
  const o = { ...P.ADAPT_MEASURE, ep: 'cpu', threads, load, cpus: P.defaultMeasureCpus(threads) };
  const passes = [await P.measureModels(archs, o), await P.measureModels(archs, o)];
  const pct = (p, m) => Number(((100 * (p - m)) / m).toFixed(1));
  const rows = archs.map((a) => {
    const [m1, m2] = passes.map((p) => p.get(a.id)[0].run_ms);
    const m = (m1 + m2) / 2;
    const predict = (p) => P.predictKernels(p, kernels.get(a.id), 'cpu', threads, 0).total_ms;
    return { id: a.id, measured_ms: Number(m.toFixed(3)), noise_pct: Number(((100 * Math.abs(m1 - m2)) / m).toFixed(1)), shipped_pct: pct(predict(shipped), m), adapted_pct: pct(predict(adapted), m) };
  });
  console.table(rows);
  const within = (f) => rows.filter(f).length;
  const summary = {
    threads,
    cpu: describeMachine().cpu_model,
    at: new Date().toISOString(),
    adapted: adaptedPath,
    within_10pct: { shipped: within((r) => Math.abs(r.shipped_pct) <= 10), adapted: within((r) => Math.abs(r.adapted_pct) <= 10), noise_floor: within((r) => r.noise_pct <= 10), of: rows.length },
  };
  console.log(`${threads} thread(s): within ±10 %: shipped ${summary.within_10pct.shipped}, adapted ${summary.within_10pct.adapted} of ${rows.length}; the two passes agree for ${summary.within_10pct.noise_floor}`);
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ ...summary, rows }, null, 1)}\n`);
  process.exit(0);
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
