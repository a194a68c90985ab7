import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelPackage } from '@outlet/model-package';
import { PROFILE_FILE, ProfileFile, ProfileMeasurement, profilePackage } from '@outlet/profiler';
import { stageTimes } from '@outlet/predictor';

const ROOT = join(__dirname, '..', '..', '..');

test('profilePackage times fused pairs at trunk threads and cpu heads at branch threads', async () => {
  const pkg = loadModelPackage(join(ROOT, 'models', 'branchy-mnist'));
  const profile = await profilePackage(pkg, { levels: [0], runs: 5, warmup: 1, eps: ['cpu'], threads: 1, branchThreads: 2 });
  assert.equal(profile.threads, 1);
  assert.equal(profile.branch_threads, 2);
  const of = (piece: string) => profile.measurements.filter((m) => m.piece === piece);
  assert.deepEqual(of('fused').map((m) => [m.index, m.file, m.threads]), [
    [0, 'segment-1.onnx+exit-1.onnx', 1],
    [1, 'segment-2.onnx+exit-2.onnx', 1],
    [2, 'segment-3.onnx+exit-3.onnx', 1],
  ]);
  assert.deepEqual(of('exit').map((m) => m.threads), [2, 2, 2]);
  assert.deepEqual(of('segment').map((m) => m.threads), [1, 1, 1]);
  assert.ok(of('fused').every((m) => m.median_ms > 0 && m.runs >= 5));
});

test('stageTimes: fusedHeads = max(0, fused − segment) per exit when profiled, absent otherwise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-fused-'));
  try {
    cpSync(join(ROOT, 'models', 'branchy-mnist'), dir, { recursive: true, filter: (src) => !src.endsWith(PROFILE_FILE) });
    const pkg = loadModelPackage(dir);
    const measurements: ProfileMeasurement[] = [];
    const add = (piece: ProfileMeasurement['piece'], index: number, ms: number) => {
      for (const u of [0, 0.5]) {
        const t = ms * (1 + u);
        measurements.push({ piece, index, file: '', ep: 'cpu', cpu_util: u, achieved_util: u, median_ms: t, p10_ms: t, p90_ms: t, min_ms: t, runs: 5 });
      }
    };
    [1, 2, 3].forEach((ms, i) => add('segment', i, ms));
    [0.3, 0.3, 0.3].forEach((ms, i) => add('exit', i, ms));
    const profile = { format: 1, model: 'branchy-mnist', threads: 1, eps: ['cpu'], utilization_levels: [0, 0.5], measurements } as unknown as ProfileFile;

    // An older profile: no fused pieces, no fusedHeads.
    writeFileSync(join(dir, PROFILE_FILE), JSON.stringify(profile));
    assert.equal(stageTimes(pkg, 'cpu', 0.25).fusedHeads, undefined);

    // Fused pair 1 is faster than its segment alone (noise): clamped at 0.
    [1.1, 1.9, 3.2].forEach((ms, i) => add('fused', i, ms));
    writeFileSync(join(dir, PROFILE_FILE), JSON.stringify({ ...profile, branch_threads: 2 }));
    const times = stageTimes(pkg, 'cpu', 0.25);
    assert.equal(times.source, 'profile');
    assert.equal(times.fusedHeads!.length, 3);
    [0.1 * 1.25, 0, 0.2 * 1.25].forEach((want, i) => assert.ok(Math.abs(times.fusedHeads![i] - want) < 1e-9, `exit ${i}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
