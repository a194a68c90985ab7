import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureFileName, featureFilePath, takeFeatureFile, writeFeatureFile } from '@outlet/transport';

test('a subjob re-run after a stall finds its feature already taken by the first run (the runner then ends it "dropped")', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-stalled-'));
  try {
    const path = featureFilePath(dir, featureFileName('task-1', 0));
    writeFeatureFile(path, new Float32Array([1, 2, 3]));
    assert.deepEqual([...takeFeatureFile(path)!], [1, 2, 3], 'the first run takes the feature');
    assert.equal(takeFeatureFile(path), undefined, 'the re-run finds it gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
