import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADAPT_BANDS, AdaptBand, AdaptRow, BlockLikeness, Kernel, ModelPrediction, SIZE_SPLIT, SMALL_KERNEL_MS, WIDTH_SPLIT, adaptationSource, adaptedMs, adaptedPredictorPath, bandOf, fitAdaptation, generateWeightLadder, passErrors, passFloor, KernelPredictorFile, kernelPredictorPathFor, farShare, likenessOf, localCorrection, localFactor, narrowShare, scaledParts, scaledTotals, smallShare, spillsCache, weightKb } from '@outlet/predictor';
import { l2KbPerCore, l3Kb } from '@outlet/profiler';
import { seededRandom } from '@outlet/onnx-cost';
import { REPO_ROOT } from '../support/direct';


/** Blocks whose measured calls are a machine's own: conv 1.8× the base prediction, gemm 0.6×, pooling 1.2×, overhead +0.05 ms. */
function rows(count: number, noise: number, seed = 1): AdaptRow[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const byClass = Object.fromEntries(ADAPT_BANDS.map((c) => [c, 0])) as Record<AdaptBand, number>;
    byClass.conv = 0.2 + 3 * rand();
    byClass.gemm = rand() < 0.5 ? 0.5 * rand() : 0;
    byClass.pool = 0.3 * rand();
    byClass.eltwise = 0.0001 * rand(); // too little of the predicted time for a band of its own
    const overhead = 0.02;
    const total = ADAPT_BANDS.reduce((s, c) => s + byClass[c], 0) + overhead;
    const truth = 1.8 * byClass.conv + 0.6 * byClass.gemm + 1.2 * byClass.pool + byClass.eltwise + overhead + 0.05;
    const counts = Object.fromEntries(ADAPT_BANDS.map((c) => [c, byClass[c] > 0 ? 1 + Math.floor(4 * rand()) : 0])) as Record<AdaptBand, number>;
    const like = { shares: { conv: byClass.conv / total, overhead: overhead / total }, log_ms: Math.log(total) };
    return { byClass, counts, overhead, total, like, measured: truth * (1 + noise * (2 * rand() - 1)) };
  });
}

test('adapt: per-class scales and the overhead are recovered from measured blocks, and the error falls', () => {
  const fit = fitAdaptation(rows(40, 0));
  assert.ok(Math.abs(fit.scale.conv! - 1.8) < 0.01, `conv ${fit.scale.conv}`);
  assert.ok(Math.abs(fit.scale.gemm! - 0.6) < 0.01, `gemm ${fit.scale.gemm}`);
  assert.ok(Math.abs(fit.scale.pool! - 1.2) < 0.02, `pool ${fit.scale.pool}`);
  assert.ok(fit.mape_after < 0.5, `exact data: MAPE after ${fit.mape_after}`);
  assert.ok(fit.mape_before > 20, `before ${fit.mape_before}`);
  // A class with too little time gets the overall ratio; so does a class absent from the blocks.
  assert.equal(fit.scale.eltwise, fit.scale.dwconv);
  // A constant per kernel stays within what a thread pool's dispatch costs, even where the data
  // would trade it against the scale: 20 µs more per pooling kernel.
  const traded = fitAdaptation(rows(40, 0).map((r) => ({ ...r, measured: r.measured + 0.02 * r.counts.pool })));
  for (const [band, ms] of Object.entries(traded.per_kernel_ms ?? {})) assert.ok(ms! <= 0.01, `${band}: ${ms} ms per kernel`);
  // On an accelerator a kernel's launch may cost more: unbounded, the 20 µs are found.
  const launched = fitAdaptation(rows(40, 0).map((r) => ({ ...r, measured: r.measured + 0.02 * r.counts.pool })), Infinity);
  assert.ok(Math.abs(launched.per_kernel_ms!.pool! - 0.02) < 0.001, `pool: ${launched.per_kernel_ms!.pool} ms per kernel`);
  // A band's scale stays within 4× of the overall ratio either way, even where the blocks say its
  // kernels take no time (a few noisy blocks can): never a kernel predicted at 0 ms.
  const free = rows(40, 0).map((r) => ({ ...r, measured: r.measured - 1.2 * r.byClass.pool }));
  const overall = free.reduce((s, r) => s + r.measured, 0) / free.reduce((s, r) => s + r.total, 0);
  const floored = fitAdaptation(free);
  assert.ok(Math.abs(floored.scale.pool! - overall / 4) < 0.001, `pool ${floored.scale.pool}, overall ${overall}`);
  assert.ok(Math.abs(floored.scale.conv! - 1.8) < 0.1, `the other bands still fitted: conv ${floored.scale.conv}`);
  const noisy = fitAdaptation(rows(40, 0.05, 2));
  assert.ok(noisy.mape_after < 5 && noisy.mape_after < noisy.mape_before / 4, `noisy: ${noisy.mape_before} -> ${noisy.mape_after}`);
  for (const v of Object.values(noisy.scale)) assert.ok(v! >= 0, 'scales are never negative');
});

test('a band of small kernels that is little of all the blocks\' time but most of a few blocks gets a scale of its own', () => {
  // Blocks of the rows above, plus six tiny blocks that are mostly eltwise/small kernels at 0.5× the base.
  const tiny = Array.from({ length: 6 }, (_, i): AdaptRow => {
    const byClass = Object.fromEntries(ADAPT_BANDS.map((c) => [c, 0])) as Record<AdaptBand, number>;
    byClass['eltwise/small'] = 0.004 + 0.001 * i;
    const counts = Object.fromEntries(ADAPT_BANDS.map((c) => [c, c === 'eltwise' ? 3 : 0])) as Record<AdaptBand, number>;
    const total = byClass['eltwise/small'] + 0.002;
    return { byClass, counts, overhead: 0.002, total, like: { shares: {}, log_ms: Math.log(total) }, measured: 0.5 * byClass['eltwise/small'] + 0.002 + 0.05 };
  });
  const all = [...rows(40, 0), ...tiny];
  const share = all.reduce((s, r) => s + r.byClass['eltwise/small'], 0) / all.reduce((s, r) => s + r.total, 0);
  assert.ok(share < 0.005, `little of the sum: ${share}`);
  const fit = fitAdaptation(all);
  assert.ok(Math.abs(fit.scale['eltwise/small']! - 0.5) < 0.05, `eltwise/small ${fit.scale['eltwise/small']}`);
  // With only three such blocks it is left to the overall ratio.
  const few = fitAdaptation([...rows(40, 0), ...tiny.slice(0, 3)]);
  assert.equal(few.scale['eltwise/small'], few.scale.dwconv);
});

test('the predictor used: $OUTLET_KERNEL_PREDICTOR, else this machine\'s adapted one, else the shipped one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-adapt-'));
  const saved = process.env.OUTLET_KERNEL_PREDICTOR;
  delete process.env.OUTLET_KERNEL_PREDICTOR;
  try {
    assert.equal(kernelPredictorPathFor('cpu', 1, dir), join(dir, 'kernel-predictor.json'));
    const adapted = adaptedPredictorPath('cpu', 1, dir);
    assert.match(adapted, /predictors\/kernel-[0-9a-f]{12}\.json$/);
    assert.notEqual(adaptedPredictorPath('cpu', 2, dir), adapted, 'another thread count, another fingerprint');
    mkdirSync(join(dir, 'predictors'), { recursive: true });
    writeFileSync(adapted, '{}');
    assert.equal(kernelPredictorPathFor('cpu', 1, dir), adapted);
    assert.equal(kernelPredictorPathFor('cpu', 2, dir), join(dir, 'kernel-predictor.json'));
    process.env.OUTLET_KERNEL_PREDICTOR = '/x/p.json';
    assert.equal(kernelPredictorPathFor('cpu', 1, dir), '/x/p.json');
  } finally {
    if (saved === undefined) delete process.env.OUTLET_KERNEL_PREDICTOR;
    else process.env.OUTLET_KERNEL_PREDICTOR = saved;
  }
});

test('the models folder: $OUTLET_MODELS_DIR, else ./models, else the shipped one; predictors from the first of them that has one', () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'outlet-cwd-'));
  const cli = (target: string, env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'outlet.js'), 'predict', target, '--json'], { cwd: elsewhere, encoding: 'utf8', env: { ...process.env, OUTLET_MODELS_DIR: '', OUTLET_KERNEL_PREDICTOR: '', ...env } });
  const predicted = (r: ReturnType<typeof cli>) => {
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { target: string; total_ms: number };
    assert.ok(report.total_ms > 0);
    return report.target;
  };
  // No ./models here: the installation's packages and predictor.
  assert.equal(predicted(cli('branchy-mnist')), join(REPO_ROOT, 'models', 'branchy-mnist'));
  // A folder of one's own packages, without a predictor: its package, the shipped predictor.
  const own = join(elsewhere, 'own');
  cpSync(join(REPO_ROOT, 'models', 'residual-exits'), join(own, 'residual-exits'), { recursive: true });
  assert.equal(predicted(cli('residual-exits', { OUTLET_MODELS_DIR: own })), join(own, 'residual-exits'));
  const missing = cli('branchy-mnist', { OUTLET_MODELS_DIR: own });
  assert.notEqual(missing.status, 0, 'a package the models folder does not hold');
});

test('a provider the predictor was never fitted on is adapted from the CPU forests; one it has, from its own', () => {
  const cpu = { classes: {}, overhead: [], threads: [1], levels: [0] };
  const own = { classes: {}, overhead: [], threads: [1], levels: [0] };
  const base = { format: 2, kind: 'kernel-predictor', created_at: '', feature_names: [], models: { cpu } } as KernelPredictorFile;
  assert.equal(adaptationSource(base, 'cpu'), base);
  const webgpu = adaptationSource(base, 'webgpu');
  assert.equal(webgpu.models.webgpu, cpu);
  assert.equal(base.models.webgpu, undefined, 'the base is not changed');
  const both = { ...base, models: { cpu, webgpu: own } };
  assert.equal(adaptationSource(both, 'webgpu').models.webgpu, own);
  assert.throws(() => adaptationSource({ ...base, models: {} }, 'webgpu'), /no model for 'webgpu' nor for 'cpu'/);
});

test('the local correction: a model gets the median residual of the measured blocks most like it', () => {
  const kernel = (kclass: Kernel['kclass']) => ({ kclass }) as Kernel;
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a}, not ${b}`);
  // A base prediction: 0.25 ms of large convs, 0.025 of a small depthwise one, 0.225 of overhead.
  const base = { kernels: [{ kernel: kernel('conv'), ms: 0.25 }, { kernel: kernel('dwconv'), ms: 0.025 }], overhead_ms: 0.225, total_ms: 0.5 } as ModelPrediction;
  const like = likenessOf(base);
  assert.deepEqual(like.shares, { conv: 0.5, 'dwconv/small': 0.05, overhead: 0.45 });
  assert.equal(like.log_ms, Math.log(0.5));
  // Blocks of two kinds: convolution-heavy ones the scales left 20 % too fast, small depthwise
  // ones 10 % too slow.
  const convLike: BlockLikeness = { shares: { conv: 0.8, overhead: 0.2 }, log_ms: Math.log(0.5) };
  const dwLike: BlockLikeness = { shares: { 'dwconv/small': 0.7, overhead: 0.3 }, log_ms: Math.log(0.1) };
  const blocks = [
    ...[1.18, 1.2, 1.22, 5].map((residual) => ({ ...convLike, residual })),
    ...[0.88, 0.9, 0.92].map((residual) => ({ ...dwLike, residual })),
  ];
  const c = { k: 3, size_weight: 0.5, blocks };
  near(localFactor(c, like), 1.2, 'the median of the three nearest');
  near(localFactor(c, dwLike), 0.9, 'a depthwise-like model');
  near(localFactor({ ...c, k: 4 }, like), 1.21, 'an even count: the middle two averaged, an outlier among them does not move it');
  // Size counts too: the same shares at the depthwise blocks' size are nearer them when size weighs enough.
  const small = { ...like, log_ms: Math.log(0.1) };
  near(localFactor({ ...c, size_weight: 0 }, small), 1.2, 'shares alone');
  near(localFactor({ ...c, size_weight: 10 }, small), 0.9, 'size weighing much');
  assert.equal(localFactor({ ...c, blocks: [] }, like), 1, 'no blocks: no correction');
});

test('the local correction is built from the blocks the scales were fitted on: their residuals after the scales', () => {
  const rand = seededRandom(5);
  const rowsOf = Array.from({ length: 12 }, (_, i) => {
    const byClass = Object.fromEntries(ADAPT_BANDS.map((c) => [c, 0])) as Record<AdaptBand, number>;
    const counts = Object.fromEntries(ADAPT_BANDS.map((c) => [c, 0])) as Record<AdaptBand, number>;
    byClass.conv = 0.5 + rand();
    counts.conv = 3;
    const total = byClass.conv + 0.02;
    const like = { shares: { conv: byClass.conv / total, overhead: 0.02 / total }, log_ms: Math.log(total) };
    return { byClass, counts, overhead: 0.02, total, like, measured: total * (i % 2 ? 1.1 : 0.7) };
  });
  const fit = fitAdaptation(rowsOf);
  const local = localCorrection(rowsOf, fit);
  assert.equal(local.blocks.length, 12);
  local.blocks.forEach((b, i) => assert.ok(Math.abs(b.residual - rowsOf[i].measured / adaptedMs(rowsOf[i], fit)) < 1e-3, `block ${i}`));
  local.blocks.forEach((b, i) => assert.ok(Math.abs(b.log_ms - rowsOf[i].like.log_ms) < 1e-3, `block ${i}: its likeness`));
  assert.ok(local.blocks.some((b) => b.residual > 1.05) && local.blocks.some((b) => b.residual < 0.95), 'what one scale cannot explain is left to it');
  assert.ok(local.k > 0 && local.size_weight > 0);
});

test('the size split: a kernel takes its class\'s small-kernel scale at the small end, its class\'s scale at the large end, a log-linear mix between', () => {
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a}, not ${b}`);
  near(smallShare(SIZE_SPLIT.small_ms / 2, SIZE_SPLIT), 1, 'under the small end');
  near(smallShare(SIZE_SPLIT.large_ms * 3, SIZE_SPLIT), 0, 'over the large end');
  near(smallShare(Math.sqrt(SIZE_SPLIT.small_ms * SIZE_SPLIT.large_ms), SIZE_SPLIT), 0.5, 'halfway in log');
  near(smallShare(0, SIZE_SPLIT), 1, 'a kernel predicted at 0 ms');
  // Adaptations before the split: a step at SMALL_KERNEL_MS, all of a kernel in its bandOf.
  assert.equal(smallShare(SMALL_KERNEL_MS * 0.99), 1);
  assert.equal(smallShare(SMALL_KERNEL_MS), 0);
  assert.deepEqual(scaledParts('conv', 0.01, false), { parts: [['conv/small', 0.01]], constant: 'conv/small' });
  const between = Math.sqrt(SIZE_SPLIT.small_ms * SIZE_SPLIT.large_ms);
  const conv = scaledParts('conv', between, false, SIZE_SPLIT);
  assert.equal(conv.constant, 'conv', 'one constant per class');
  assert.deepEqual(conv.parts.map(([band]) => band), ['conv/small', 'conv']);
  near(conv.parts[0][1] + conv.parts[1][1], between, 'the parts add up to the kernel');
  assert.ok(conv.parts[0][1] > 0 && conv.parts[1][1] > 0);
  assert.deepEqual(scaledParts('gemm', 0.01, true, SIZE_SPLIT), { parts: [['gemm/spill', 0.01]], constant: 'gemm/spill' }, 'a spilling gemm is all gemm/spill');
});

test('adapt recovers a speed-up that grows with kernel size: small convolutions 1.4× the base, large ones 0.6×', () => {
  const rand = seededRandom(9);
  const prediction = (ms: number[]) => ({ kernels: ms.map((v) => ({ kernel: { kclass: 'conv' } as Kernel, ms: v })), overhead_ms: 0.01, total_ms: 0.01 + ms.reduce((a, b) => a + b, 0) }) as ModelPrediction;
  const rowsOf: AdaptRow[] = Array.from({ length: 60 }, () => {
    const p = prediction(Array.from({ length: 2 + Math.floor(4 * rand()) }, () => Math.exp(Math.log(0.002) + rand() * Math.log(200))));
    const { ms, counts } = scaledTotals(p, false, SIZE_SPLIT);
    return { byClass: ms, counts, overhead: p.overhead_ms, total: p.total_ms, like: likenessOf(p), measured: 1.4 * ms['conv/small'] + 0.6 * ms.conv + p.overhead_ms };
  });
  const fit = fitAdaptation(rowsOf);
  assert.ok(Math.abs(fit.scale['conv/small']! - 1.4) < 0.02, `conv/small ${fit.scale['conv/small']}`);
  assert.ok(Math.abs(fit.scale.conv! - 0.6) < 0.02, `conv ${fit.scale.conv}`);
  assert.ok(fit.mape_after < 0.5, `MAPE after ${fit.mape_after}`);
});

test('the width split: a convolution\'s large part takes conv/narrow at few output channels, conv at many, a log-linear mix between; other classes never', () => {
  const conv = (outC: number, kclass: Kernel['kclass'] = 'conv') => ({ kclass, config: { out_c: outC } }) as unknown as Kernel;
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a}, not ${b}`);
  near(narrowShare(conv(WIDTH_SPLIT.narrow_c / 2), WIDTH_SPLIT), 1, 'under the narrow end');
  near(narrowShare(conv(WIDTH_SPLIT.wide_c * 2), WIDTH_SPLIT), 0, 'over the wide end');
  near(narrowShare(conv(Math.sqrt(WIDTH_SPLIT.narrow_c * WIDTH_SPLIT.wide_c)), WIDTH_SPLIT), 0.5, 'halfway in log');
  assert.equal(narrowShare(conv(8)), 0, 'no width split (older adaptations): one conv scale');
  assert.equal(narrowShare(conv(8, 'dwconv'), WIDTH_SPLIT), 0, 'a depthwise convolution is not split');
  const parts = scaledParts('conv', 1, false, SIZE_SPLIT, { narrow: 0.25 });
  assert.deepEqual(parts.parts.map(([band]) => band), ['conv/small', 'conv', 'conv/narrow']);
  near(parts.parts[1][1], 0.75, 'the wide part');
  near(parts.parts[2][1], 0.25, 'the narrow part');
  assert.equal(parts.constant, 'conv', 'one constant per class');
  // Fitted on blocks of narrow and wide convolutions: each band's own scale comes back.
  const rand = seededRandom(4);
  const rowsOf: AdaptRow[] = Array.from({ length: 60 }, () => {
    const kernels = Array.from({ length: 2 + Math.floor(3 * rand()) }, () => ({ kernel: conv([8, 16, 32, 64, 128][Math.floor(5 * rand())]), ms: 0.1 + rand() }));
    const p = { kernels, overhead_ms: 0.01, total_ms: 0.01 + kernels.reduce((a, k) => a + k.ms, 0) } as ModelPrediction;
    const { ms, counts } = scaledTotals(p, false, SIZE_SPLIT, WIDTH_SPLIT);
    return { byClass: ms, counts, overhead: p.overhead_ms, total: p.total_ms, like: likenessOf(p), measured: 1.05 * ms['conv/narrow'] + 1.5 * ms.conv + p.overhead_ms };
  });
  const fit = fitAdaptation(rowsOf);
  assert.ok(Math.abs(fit.scale['conv/narrow']! - 1.05) < 0.02, `conv/narrow ${fit.scale['conv/narrow']}`);
  assert.ok(Math.abs(fit.scale.conv! - 1.5) < 0.02, `conv ${fit.scale.conv}`);
});

/** A fake /sys/devices/system/cpu/cpu0/cache: each cache as level, type, size, the cores sharing it. */
function sysfsCaches(caches: [string, string, string, string][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-cache-'));
  caches.forEach(([level, type, size, shared], i) => {
    mkdirSync(join(dir, `index${i}`));
    for (const [f, v] of Object.entries({ level, type, size, shared_cpu_list: shared })) writeFileSync(join(dir, `index${i}`, f), `${v}\n`);
  });
  return dir;
}

test('L2 per core from sysfs: the level-2 data or unified cache, divided among the cores sharing it', () => {
  const l1: [string, string, string, string] = ['1', 'Data', '48K', '0'];
  const l1i: [string, string, string, string] = ['1', 'Instruction', '32K', '0'];
  const l3: [string, string, string, string] = ['3', 'Unified', '32768K', '0-1'];
  assert.equal(l2KbPerCore(sysfsCaches([l1, l1i, ['2', 'Unified', '2048K', '0'], l3])), 2048);
  assert.equal(l2KbPerCore(sysfsCaches([l1, ['2', 'Unified', '1M', '0-1'], l3])), 512, 'a module of two cores shares its L2');
  assert.equal(l2KbPerCore(sysfsCaches([l1, ['2', 'Unified', '4096K', '0,4-6'], l3])), 1024);
  assert.equal(l2KbPerCore(sysfsCaches([l1, l3])), undefined, 'no L2 reported');
  assert.equal(l2KbPerCore(join(tmpdir(), 'outlet-no-such-sysfs')), undefined, 'no sysfs');
  assert.equal(l3Kb(sysfsCaches([l1, ['2', 'Unified', '1M', '0'], ['3', 'Unified', '32M', '0-1']])), 32768, 'the L3 whole, however many cores share it');
  assert.equal(l3Kb(sysfsCaches([l1, ['2', 'Unified', '1M', '0']])), undefined, 'no L3 reported');
});

test('gemm kernels of a model whose weights outgrow the cache form a band of their own; small kernels keep theirs', () => {
  const kernel = (kclass: Kernel['kclass'], kb: number) => ({ kclass, config: { weight_kb: kb } }) as unknown as Kernel;
  const mlp = [kernel('gemm', 3000), kernel('eltwise', 0), kernel('gemm', 1200)];
  assert.equal(weightKb(mlp), 4200);
  assert.equal(spillsCache(mlp, 4096), true);
  assert.equal(spillsCache(mlp, 8192), false, 'within two cores\' L2');
  assert.equal(spillsCache(mlp, undefined), false, 'no cache recorded: never');
  assert.equal(bandOf('gemm', 0.2, true), 'gemm/spill');
  assert.equal(bandOf('gemm', 0.2, false), 'gemm');
  assert.equal(bandOf('gemm', 0.01, true), 'gemm/small');
  assert.equal(bandOf('conv', 0.2, true), 'conv', 'only a gemm of one row reads each weight once');
  assert.ok(ADAPT_BANDS.includes('gemm/spill'));
  // Beyond half the L3 a spilling gemm turns gemm/far, all of it at the whole L3.
  const ofMb = (mb: number) => [kernel('gemm', mb * 1024)];
  assert.equal(farShare(ofMb(8), 32768), 0, 'within half the L3');
  assert.ok(Math.abs(farShare(ofMb(16 * Math.SQRT2), 32768) - 0.5) < 1e-9, 'halfway in log');
  assert.equal(farShare(ofMb(96), 32768), 1, 'beyond the L3');
  assert.equal(farShare(ofMb(96), undefined), 0, 'no L3 recorded: never');
  const parts = scaledParts('gemm', 1, true, SIZE_SPLIT, { far: 0.25 });
  assert.deepEqual(parts, { parts: [['gemm/spill', 0.75], ['gemm/far', 0.25]], constant: 'gemm/spill' });
  assert.deepEqual(scaledParts('gemm', 1, false, SIZE_SPLIT, { far: 1 }).parts.map(([band]) => band), ['gemm/small', 'gemm'], 'far only where the model spills the L2');
});

test('the weight ladder: MLPs whose weights climb across the caches, from under 1 MB to beyond a large L3', () => {
  const ladder = generateWeightLadder('adapt-mlp');
  assert.equal(ladder.length, 16);
  assert.deepEqual(ladder.map((m) => m.id).slice(0, 2), ['adapt-mlp-00', 'adapt-mlp-01']);
  const mb = ladder.map((m) => Number(/\(([\d.]+) MB of weights\)/.exec(m.description)![1]));
  for (let i = 1; i < mb.length; i++) assert.ok(mb[i] > mb[i - 1], `climbs: ${mb.join(', ')}`);
  assert.ok(mb[0] < 1 && mb[mb.length - 1] > 64, `spans the caches: ${mb.join(', ')}`);
  // The file holds the weights it says (float32, a little framing).
  for (const [i, m] of ladder.entries()) assert.ok(Math.abs(m.bytes.length / 2 ** 20 - mb[i]) < 0.05 + 0.01 * mb[i], `${m.id}: ${m.bytes.length} bytes, ${mb[i]} MB`);
});

test('the evaluation\'s noise floor: how often one pass alone comes within ±10 % of the passes\' median', () => {
  // Four passes, one in a slow spell: the median does not move, that pass is 30 % off it.
  assert.deepEqual(passErrors([1, 1.3, 1, 1]).map((e) => Number(e.toFixed(6))), [0, 0.3, 0, 0]);
  const floor = passFloor([[1, 1.3, 1, 1], [2, 2.1, 1.9, 2], [1, 1.15, 1, 1.15]]);
  // Passes within ±10 %: 3 of 4, 4 of 4, and of the third (median 1.075) all four (7 %).
  assert.equal(floor.noise_within_10pct, Number((11 / 12).toFixed(4)));
  assert.equal(floor.noise_within_20pct, Number((11 / 12).toFixed(4)), 'the slow pass is 30 % off');
  assert.ok(floor.noise_mape > 0 && floor.noise_mape < 10, `MAPE ${floor.noise_mape}`);
});
