#!/usr/bin/env node
// Compare forms of `outlet predictor adapt` on the same measurements (after `npm run build`):
//   node scripts/adapt-offline.js collect <threads> <out.json> [blocks]
//     measures adapt's blocks (the weight ladder, then seeded blocks: 240 by default, as adapt)
//     in two visits, and the 37 real architectures and package pieces in four passes, as
//     `--evaluate` does, then the 11 larger architectures in four passes;
//   node scripts/adapt-offline.js compare <data.json>...
//     fits each form on the blocks and scores it on the 37 against the passes' median (older
//     collections: one visit, two passes and their mean).
// A live run measures its blocks and its architectures minutes apart on a machine whose speed
// moves; fitted on one collection, two forms differ only by the form.
const { readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
process.chdir(root);
const P = require(join(root, 'dist/libs/predictor/src/index.js'));
const { LoadGenerator, l2KbPerCore, l3Kb, summarize } = require(join(root, 'dist/libs/profiler/src/index.js'));

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
  const at = new Date().toISOString();
  const visits = [await measure(blocks), await measure(blocks)];
  const passes = [];
  for (let i = 0; i < 4; i++) passes.push(await measure(architectures));
  const larger = [];
  for (let i = 0; i < 4; i++) larger.push(await measure(P.generateLargerArchitectures()));
  const data = { threads, cache_kb: (l2KbPerCore() ?? 0) * threads, l3_kb: l3Kb(), at, blocks: visits[0], visits, passes, larger };
  writeFileSync(out, JSON.stringify(data));
  console.log(`wrote ${out}: ${blocks.length} blocks in two visits, ${architectures.length} architectures and the 11 larger in four passes`);
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
  // The truth: the passes' median (two passes: their mean); the noise floor: how often one pass alone is within ±10 % of it (passFloor).
  const median = (xs) => summarize(xs).median;
  const truth = (await withKernels(all.architectures)).map((m) => ({ ...m, passes: data.passes.map((pass) => pass[m.id]) })).map((m) => ({ ...m, ms: median(m.passes) }));
  // Collections with two visits of the blocks: adapt's faster visit, or the first alone.
  const faster = (id) => Math.min(...data.visits.map((v) => v[id]));
  const adapted = (split, width, l3Kb, blockMs = data.visits ? faster : (id) => data.blocks[id]) => {
    const rows = blocks.map((m) => P.adaptRow(base, m.kernels, blockMs(m.id), { ep: 'cpu', threads, cacheKb, split, width, l3Kb }));
    return { ...base, adaptations: { [`cpu/t${threads}`]: { ep: 'cpu', threads, cache_kb: cacheKb, l3_kb: l3Kb, ...P.adaptationFit(rows, split, width) } } };
  };
  // Collections with the 11 larger architectures (which adapt and --evaluate never measure) score them too.
  const larger = data.larger ? (await withKernels(P.generateLargerArchitectures())).map((m) => ({ ...m, ms: median(data.larger.map((pass) => pass[m.id])) })) : [];
  const within = (predictor, set) => set.filter((t) => Math.abs(P.predictKernels(predictor, t.kernels, 'cpu', threads, 0).total_ms / t.ms - 1) <= 0.1).length;
  const score = (name, predictor) => {
    const n = within(predictor, truth);
    console.log(`  ${name.padEnd(36)} ${n}/${truth.length} within ±10 % (${Math.round((100 * n) / truth.length)} %)${larger.length ? `; the larger ${within(predictor, larger)}/${larger.length}` : ''}`);
  };
  const floor = P.passFloor(truth.map((t) => t.passes)).noise_within_10pct;
  console.log(`${file} (${data.at}): ${threads} thread(s), ${blocks.length} blocks${data.visits ? ' in two visits (the faster counts)' : ''}, ${data.passes.length} passes, noise floor ${Math.round(100 * floor)} %`);
  score('shipped', base);
  score('step at 0.05 ms', adapted(undefined));
  score(`size split ${P.SIZE_SPLIT.small_ms}-${P.SIZE_SPLIT.large_ms} ms`, adapted(P.SIZE_SPLIT));
  score(`+ width split ${P.WIDTH_SPLIT.narrow_c}-${P.WIDTH_SPLIT.wide_c} channels`, adapted(P.SIZE_SPLIT, P.WIDTH_SPLIT));
  if (l3) score(`+ gemm/far from ${P.FAR_SPLIT.from}-${P.FAR_SPLIT.to} L3`, adapted(P.SIZE_SPLIT, P.WIDTH_SPLIT, l3));
  if (l3 && data.visits) score('  the same, the first visit alone', adapted(P.SIZE_SPLIT, P.WIDTH_SPLIT, l3, (id) => data.visits[0][id]));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'collect') collect(Number(args[0] ?? 1), args[1] ?? 'adapt-data.json', args[2] ? Number(args[2]) : undefined).catch((e) => { console.error(e); process.exit(1); });
else if (command === 'compare' && args.length) args.reduce((done, f) => done.then(() => compare(f)), Promise.resolve()).catch((e) => { console.error(e); process.exit(1); });
else {
  console.error('usage: node scripts/adapt-offline.js collect <threads> <out.json> [blocks] | compare <data.json>...');
  process.exit(2);
}
