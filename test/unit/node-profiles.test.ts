import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageTimeDrift, scaleStageTimes } from '@outlet/planner';
import { StoredProfile, cachedProfilePath, packageDigest, parseStoredProfile, readCachedProfile, writeCachedProfile } from '@outlet/profiler';
import { loadModelPackage, readPackageJson } from '@outlet/model-package';
import { MODELS_DIR } from '../support/direct';

describe('observed stage times against the plans\' (StageTimeDrift)', () => {
  test('a median beyond the bound, either way, from minSamples on; a few outliers move nothing', () => {
    const drift = new StageTimeDrift(10, 5);
    for (let i = 0; i < 4; i++) drift.record(0, 20, 10);
    assert.deepEqual(drift.beyond(1.5), [], 'fewer than minSamples');
    drift.record(0, 20, 10);
    assert.deepEqual(drift.beyond(1.5), [{ stage: 0, ratio: 2, samples: 5 }]);
    for (let i = 0; i < 7; i++) drift.record(1, 10, 10);
    for (let i = 0; i < 3; i++) drift.record(1, 100, 10);
    assert.deepEqual(drift.beyond(1.5).map((d) => d.stage), [0], 'three slow runs in ten are outliers to a median');
    for (let i = 0; i < 10; i++) drift.record(1, 5, 10);
    assert.deepEqual(drift.beyond(1.5).map((d) => [d.stage, d.ratio]), [[0, 2], [1, 0.5]], 'faster than assumed counts too; the window keeps the last 10');
    drift.clear();
    assert.deepEqual(drift.beyond(1.5), []);
  });

  test('scaleStageTimes scales each segment with the fused and inline heads that run with it, and the branch heads apart', () => {
    const times = { segments: [1, 2], trunkHeads: [0.5, 0.5], branchHeads: [0.4], fusedHeads: [0.2, 0.3] };
    assert.deepEqual(scaleStageTimes(times, { segments: [2, 1] }, [0, 1]), { segments: [2, 2], trunkHeads: [1, 0.5], branchHeads: [0.4], fusedHeads: [0.4, 0.3] });
    assert.deepEqual(scaleStageTimes(times, { branchHeads: [3] }, [0, 1]), { ...times, branchHeads: [1.2000000000000002] });
  });
});

describe('stored profiles: the key\'s parts, the local cache, and a package\'s own files', () => {
  const pkg = loadModelPackage(join(MODELS_DIR, 'branchy-mnist'));
  const stored = (over: Partial<StoredProfile> = {}): StoredProfile => ({
    format: 1,
    model: 'branchy-mnist',
    packageDigest: packageDigest(pkg),
    fingerprint: { id: 'abcdef012345', cpuModel: 'x', isa: 'avx2', cores: 2, trunkEp: 'cpu', trunkThreads: 1, branchThreads: 1, onnxruntime: '1' },
    measuredBy: 'node-a',
    measuredAt: '2026-12-07T00:00:00.000Z',
    measureSeconds: 3,
    profile: { measurements: [] } as unknown as StoredProfile['profile'],
    ...over,
  });

  test('the package digest is stable and changes with any model file', () => {
    assert.match(packageDigest(pkg), /^[0-9a-f]{16}$/);
    assert.equal(packageDigest(pkg), packageDigest(loadModelPackage(pkg.dir)));
    assert.notEqual(packageDigest(pkg), packageDigest(loadModelPackage(join(MODELS_DIR, 'branchy-bench'))));
  });

  test('written atomically, read back only for its own model, digest and fingerprint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outlet-cache-'));
    try {
      const s = stored();
      const path = writeCachedProfile(dir, s);
      assert.equal(path, cachedProfilePath(dir, s.model, s.packageDigest, s.fingerprint.id));
      assert.deepEqual(readCachedProfile(dir, s.model, s.packageDigest, s.fingerprint.id), s);
      assert.equal(readCachedProfile(dir, s.model, s.packageDigest, '000000000000'), undefined);
      assert.equal(parseStoredProfile(JSON.stringify(s), s.model, 'another-digest', s.fingerprint.id), undefined, 'another package version');
      assert.equal(parseStoredProfile('{not json', s.model, s.packageDigest, s.fingerprint.id), undefined);
      writeFileSync(path, JSON.stringify({ ...s, profile: {} }));
      assert.equal(readCachedProfile(dir, s.model, s.packageDigest, s.fingerprint.id), undefined, 'a profile without measurements is not one');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a node\'s own files are read in place of the package\'s', () => {
    const own = { ...pkg, own: { 'profile.json': { mine: true } } };
    assert.deepEqual(readPackageJson(own, 'profile.json'), { mine: true });
    assert.notDeepEqual(readPackageJson(pkg, 'profile.json'), { mine: true });
    assert.equal(readPackageJson(own, 'calibration.json') !== undefined, true, 'other files still from the package');
  });
});
