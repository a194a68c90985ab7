import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureFileName, featureFilePath, takeFeatureFile, writeFeatureFile } from '@outlet/transport';

test('a feature file is taken once: a second take finds it gone (a subjob whose task ended ends "dropped")', () => {
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
