#!/usr/bin/env node
// Compare forms of `outlet predictor adapt` on the same measurements (after `npm run build`):
//   node scripts/adapt-offline.js collect <threads> <out.json> [blocks]
//     measures adapt's blocks (the weight ladder, then seeded blocks: 240 by default, as adapt)
//     and the 37 real architectures and package pieces in two passes, as `--evaluate` does;
//   node scripts/adapt-offline.js compare <data.json>...
//     fits each form on the blocks and scores it on the 37 against the passes' mean.
// A live run measures its blocks and its architectures minutes apart on a machine whose speed
// moves; fitted on one collection, two forms differ only by the form.
const { readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
process.chdir(root);
const P = require(join(root, 'dist/libs/predictor/src/index.js'));
const { LoadGenerator, l2KbPerCore, l3Kb } = require(join(root, 'dist/libs/profiler/src/index.js'));

/** Adapt's blocks and what `--evaluate` scores (the 37 real architectures and package pieces). */
function models(count) {
  const packages = ['branchy-bench', 'branchy-mnist', 'residual-exits'].map((p) => join('models', p));
  const files = readdirSync('training').filter((f) => f.endsWith('.onnx')).map((f) => join('training', f));
  return { blocks: P.adaptBlocks(count), architectures: P.evaluationModels(packages, files) };
}

async function collect(threads, out, count = P.ADAPT_DEFAULTS.maxBlocks) {
  const load = new LoadGenerator();
  const measure = async (list) => {
    const runs = await P.measureModels(list.map(({ id, bytes }) => ({ id, bytes })), { ...P.ADAPT_MEASURE, ep: 'cpu', threads, load, cpus: P.defaultMeasureCpus(threads) });
    return Object.fromEntries(list.map((m) => [m.id, Number(runs.get(m.id)[0].run_ms.toFixed(5))]));
  };
  const { blocks, architectures } = models(count);
  const data = { threads, cache_kb: (l2KbPerCore() ?? 0) * threads, l3_kb: l3Kb(), at: new Date().toISOString(), blocks: await measure(blocks), passes: [await measure(architectures), await measure(architectures)] };
  writeFileSync(out, JSON.stringify(data));
  console.log(`wrote ${out}: ${blocks.length} blocks, ${architectures.length} architectures in two passes`);
}

async function compare(file) {
  const data = JSON.parse(readFileSync(file, 'utf8'));
  const base = JSON.parse(readFileSync(join('models', 'kernel-predictor.json'), 'utf8'));
  const { threads, cache_kb: cacheKb, l3_kb: l3 } = data;
  // The kernels as onnxruntime runs them, from the same seeded models.
  const withKernels = async (list) => Promise.all(list.map(async (m) => ({ id: m.id, kernels: await P.runtimeKernels(m.bytes, 'cpu', threads) })));
  const all = models(Object.keys(data.blocks).length);
  // Collections measured with an older ladder hold blocks adapt no longer has, and lack its new ones.
  const blocks = await withKernels(all.blocks.filter((m) => data.blocks[m.id] !== undefined));
  const truth = (await withKernels(all.architectures)).map((m) => {
    const [a, b] = data.passes.map((pass) => pass[m.id]);
    return { ...m, ms: (a + b) / 2, apart: Math.abs(a - b) / b };
  });
  const adapted = (split, width, l3Kb) => {
    const rows = blocks.map((m) => P.adaptRow(base, m.kernels, data.blocks[m.id], { ep: 'cpu', threads, cacheKb, split, width, l3Kb }));
    return { ...base, adaptations: { [`cpu/t${threads}`]: { ep: 'cpu', threads, cache_kb: cacheKb, l3_kb: l3Kb, ...P.adaptationFit(rows, split, width) } } };
  };
  const score = (name, predictor) => {
    const errors = truth.map((t) => P.predictKernels(predictor, t.kernels, 'cpu', threads, 0).total_ms / t.ms - 1);
    const within = errors.filter((e) => Math.abs(e) <= 0.1).length;
    console.log(`  ${name.padEnd(32)} ${within}/${truth.length} within ±10 % (${Math.round((100 * within) / truth.length)} %)`);
  };
  const floor = truth.filter((t) => t.apart <= 0.1).length;
  console.log(`${file} (${data.at}): ${threads} thread(s), ${blocks.length} blocks, noise floor ${floor}/${truth.length} (${Math.round((100 * floor) / truth.length)} %)`);
  score('shipped', base);
  score('step at 0.05 ms', adapted(undefined));
  score(`size split ${P.SIZE_SPLIT.small_ms}-${P.SIZE_SPLIT.large_ms} ms`, adapted(P.SIZE_SPLIT));
  score(`+ width split ${P.WIDTH_SPLIT.narrow_c}-${P.WIDTH_SPLIT.wide_c} channels`, adapted(P.SIZE_SPLIT, P.WIDTH_SPLIT));
  if (l3) score(`+ gemm/far from ${P.FAR_SPLIT.from}-${P.FAR_SPLIT.to} L3`, adapted(P.SIZE_SPLIT, P.WIDTH_SPLIT, l3));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'collect') collect(Number(args[0] ?? 1), args[1] ?? 'adapt-data.json', args[2] ? Number(args[2]) : undefined).catch((e) => { console.error(e); process.exit(1); });
else if (command === 'compare' && args.length) args.reduce((done, f) => done.then(() => compare(f)), Promise.resolve()).catch((e) => { console.error(e); process.exit(1); });
else {
  console.error('usage: node scripts/adapt-offline.js collect <threads> <out.json> [blocks] | compare <data.json>...');
  process.exit(2);
}
