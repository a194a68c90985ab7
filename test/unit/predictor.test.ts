import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelPackage } from '@outlet/model-package';
import { interpolateOverUtilization, PROFILE_FILE, ProfileFile, profiledTime, summarize } from '@outlet/profiler';
import {
  evaluatePredictor, featuresOfModel, fitPredictor, FittedPredictor, generateZoo, leastSquares, loadPredictor, nnls,
  predictMs, refit, splitIds, stageTimes, ZooEntry, FEATURE_SETS,
} from '@outlet/predictor';

const BASIC = [...FEATURE_SETS.basic];

const ROOT = join(__dirname, '..', '..', '..');

test('NNLS recovers non-negative coefficients and clamps a negative one to zero', () => {
  const truth = [0.5, 2, 0, 3];
  const rows: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 40; i++) {
    const r = [1, (i * 7) % 11, (i * 3) % 5, (i * 13) % 17];
    rows.push(r);
    b.push(r.reduce((s, v, j) => s + v * truth[j], 0));
  }
  nnls(rows, b).forEach((v, j) => assert.ok(Math.abs(v - truth[j]) < 1e-6, `coef ${j}: ${v}`));
  // y = 1 − x: the unconstrained slope is −1, NNLS must give slope 0 and intercept = mean.
  const x = nnls([[1, 0], [1, 1], [1, 2]], [1, 0, -1]);
  assert.equal(x[1], 0);
  assert.ok(Math.abs(x[0] - 0) < 1e-9);
  const ls = leastSquares([[1, 0], [1, 1], [1, 2]], [1, 0, -1]);
  assert.ok(Math.abs(ls[1] + 1) < 1e-6);
});

test('interpolation over utilization is linear between levels and clamped outside', () => {
  const pts = [{ u: 0, value: 1 }, { u: 0.5, value: 2 }, { u: 0.9, value: 6 }];
  assert.equal(interpolateOverUtilization(pts, 0.25), 1.5);
  assert.ok(Math.abs(interpolateOverUtilization(pts, 0.7) - 4) < 1e-12);
  assert.equal(interpolateOverUtilization(pts, -1), 1);
  assert.equal(interpolateOverUtilization(pts, 1), 6);
});

test('summary statistics: median and p10/p90', () => {
  const s = summarize([5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11]);
  assert.equal(s.median, 6);
  assert.equal(s.p10, 2);
  assert.equal(s.p90, 10);
});

function syntheticEntries(): ZooEntry[] {
  // time = 0.02 + 0.01·conv + 0.05·fc + 0.002·ops, ×(1 + u) under load
  const entries: ZooEntry[] = [];
  for (let i = 0; i < 30; i++) {
    const f = [1, (i % 7) * 3, (i % 5) * 0.4, (i % 3) * 0.1, 0.05 * i, 0.3 * (i % 4), 2 + (i % 6)];
    const base = 0.02 + 0.01 * f[1] + 0.05 * f[2] + 0.002 * f[6];
    const features = Object.fromEntries(BASIC.map((k, j) => [k, f[j]]));
    entries.push({
      id: `m${i}`, family: 'synthetic', description: '', set: i % 4 === 0 ? 'holdout' : 'fit', features, mflop: 0,
      median_ms: { cpu: [base, base * 1.5, base * 2] },
    });
  }
  return entries;
}

test('fit on synthetic data predicts held-out models exactly, per level, interpolating u', () => {
  const entries = syntheticEntries();
  const levels = [0, 0.5, 1];
  const p: FittedPredictor = {
    format: 1, created_at: '', threads: 1, feature_names: BASIC, levels,
    models: fitPredictor(entries, levels, BASIC, { cpu: [0, 0.5, 1] }),
    zoo: { seed: 1, holdout_share: 0.25, runs: 1, warmup: 0, entries },
  };
  const f = entries[0].features;
  assert.deepEqual(BASIC.map((k) => f[k]), [1, 0, 0, 0, 0, 0, 2]);
  const base = entries[0].median_ms.cpu[0]!;
  assert.ok(Math.abs(predictMs(p, 'cpu', f, 0) - base) / base < 1e-6);
  assert.ok(Math.abs(predictMs(p, 'cpu', f, 0.25) - base * 1.25) / base < 1e-6);
  const rows = evaluatePredictor(p);
  const all = rows.find((r) => r.ep === 'cpu' && r.cpu_util === 'all')!;
  assert.equal(all.n, 8 * 3);
  assert.equal(all.within_10pct, 1);
  assert.ok(all.mape < 1e-4);
  assert.throws(() => predictMs(p, 'webgpu', f, 0), /no model for execution provider 'webgpu'/);
  assert.deepEqual(refit(p).evaluation, rows);
  // The same data refitted on the extended set: features it lacks are refused by name.
  assert.throws(() => refit(p, 'extended'), /unknown feature 'conv_dw_mflop'/);
  assert.throws(() => refit(p, 'nope'), /unknown feature set/);
});

test('zoo: deterministic, spans orders of magnitude of FLOPs, every op costed; split is fixed', () => {
  const a = generateZoo({ count: 14, seed: 5 });
  const b = generateZoo({ count: 14, seed: 5 });
  assert.deepEqual(a.map((m) => m.bytes.length), b.map((m) => m.bytes.length));
  const mflop = a.map((m) => featuresOfModel(m.bytes).cost.flops / 1e6);
  assert.ok(Math.max(...mflop) / Math.min(...mflop) > 100, `spread ${Math.min(...mflop)}..${Math.max(...mflop)}`);
  const ids = a.map((m) => m.id);
  const s1 = splitIds(ids, 0.3, 7);
  const s2 = splitIds(ids, 0.3, 7);
  assert.deepEqual([...s1.holdout], [...s2.holdout]);
  assert.equal(s1.holdout.size + s1.fit.size, ids.length);
  assert.equal(s1.holdout.size, 4);
});

test('stageTimes: profile.json where measured (interpolated over u), the predictor elsewhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-stage-'));
  try {
    cpSync(join(ROOT, 'models', 'branchy-mnist'), dir, { recursive: true, filter: (src) => !src.endsWith(PROFILE_FILE) });
    const pkg = loadModelPackage(dir);
    const coef = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.001];
    const predictor: FittedPredictor = {
      format: 1, created_at: '', threads: 1, feature_names: BASIC, levels: [0, 1],
      models: { cpu: [{ cpu_util: 0, achieved_util: 0, coef, n: 1 }, { cpu_util: 1, achieved_util: 1, coef: coef.map((c) => 2 * c), n: 1 }] },
    };
    assert.throws(() => stageTimes(pkg, 'cpu', 0.5), /no predictor/);
    const predicted = stageTimes(pkg, 'cpu', 0.5, predictor);
    assert.equal(predicted.source, 'predictor');
    const f = featuresOfModel(join(dir, 'exit-1.onnx'), BASIC).features;
    const expected = 1.5 * f.reduce((s, v, i) => s + v * coef[i], 0);
    assert.ok(Math.abs(predicted.branchHeads[0] - expected) < 1e-12);
    assert.equal(predicted.segments.length, 3);

    const measurements: ProfileFile['measurements'] = [];
    for (const ep of ['cpu']) {
      for (const [piece, n] of [['segment', 3], ['exit', 3]] as const) {
        for (let index = 0; index < n; index++) {
          for (const u of [0, 0.5]) {
            const ms = (piece === 'segment' ? 1 : 0.1) * (index + 1) * (1 + u);
            measurements.push({ piece, index, file: '', ep, cpu_util: u, achieved_util: u, median_ms: ms, p10_ms: ms, p90_ms: ms, min_ms: ms, runs: 5 });
          }
        }
      }
    }
    const profile = { format: 1, model: 'branchy-mnist', eps: ['cpu'], utilization_levels: [0, 0.5], measurements } as unknown as ProfileFile;
    writeFileSync(join(dir, PROFILE_FILE), JSON.stringify(profile));
    assert.equal(profiledTime(profile, 'segment', 1, 'cpu', 0.25), 2 * 1.25);
    const measured = stageTimes(pkg, 'cpu', 0.25, predictor);
    assert.equal(measured.source, 'profile');
    assert.deepEqual(measured.segments, [1.25, 2.5, 3.75]);
    assert.deepEqual(measured.trunkHeads, measured.branchHeads);
    // The kernel-level predictor's times, where given, come before the whole-model predictor's;
    // --no-profile (ignoreProfile) leaves the profile aside; fused heads come from it too.
    const kernels = (piece: string, index: number, ep: string, u: number) => (ep === 'cpu' ? (piece === 'fused' ? 10 : 100) * (index + 1) + u : undefined);
    const byKernels = stageTimes(pkg, 'cpu', 0.25, predictor, { kernels, ignoreProfile: true });
    assert.equal(byKernels.source, 'kernel predictor');
    assert.deepEqual(byKernels.segments, [100.25, 200.25, 300.25]);
    assert.deepEqual(byKernels.fusedHeads, [0, 0, 0], 'fused − segment, never below 0');
    assert.deepEqual(stageTimes(pkg, 'cpu', 0.25, predictor, { kernels }).segments, [1.25, 2.5, 3.75], 'measured times first');
    // webgpu is not in the profile: the trunk's pieces fall back to the predictor, which lacks webgpu.
    assert.throws(() => stageTimes(pkg, 'webgpu', 0.25, predictor), /no model for execution provider 'webgpu'/);
    assert.equal(loadPredictor(join(dir, 'missing.json')), undefined);
    writeFileSync(join(dir, 'p.json'), JSON.stringify(predictor));
    assert.deepEqual(loadPredictor(join(dir, 'p.json'))!.models, predictor.models);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('named features: conv split into dense and depthwise, im2col size, fc weights, op count', async () => {
  const { OnnxWriter } = await import('@outlet/onnx-cost');
  const w = new OnnxWriter();
  let x = w.input('x', [-1, 8, 10, 10]);
  x = w.conv(x, { outChannels: 8, kernel: 3, pad: 1, group: 8, bias: false }); // depthwise: 2·8·100·9
  x = w.conv(x, { outChannels: 16, kernel: 1, pad: 0, bias: false }); // dense: 2·16·100·8
  x = w.gemm(w.flatten(w.maxPool(x, { kernel: 2 })), 10); // 400 → 10
  w.output(x);
  const { named } = featuresOfModel(w.encode());
  assert.equal(named.call, 1);
  assert.equal(named.ops, 5);
  assert.ok(Math.abs(named.conv_mflop - (2 * 8 * 100 * 9 + 2 * 16 * 100 * 8) / 1e6) < 1e-12);
  assert.ok(Math.abs(named.conv_dw_mflop - (2 * 8 * 100 * 9) / 1e6) < 1e-12);
  // im2col: Hout·Wout·(Cin/g)·k²: 100·1·9 + 100·8·1
  assert.ok(Math.abs(named.conv_im2col_melem - (900 + 800) / 1e6) < 1e-12);
  assert.ok(Math.abs(named.fc_weight_mb - ((400 * 10 + 10) * 4) / 1e6) < 1e-12);
  assert.ok(Math.abs(named.pool_mflop - (16 * 25 * 4) / 1e6) < 1e-12);
  assert.equal(named.spill_mb, 0);
});
