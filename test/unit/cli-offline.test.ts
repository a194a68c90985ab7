import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelPackage } from '@outlet/model-package';
import { parseSizes } from '../../apps/cli/src/commands/transfer';
import { compactJson } from '../../apps/cli/src/offline/compact-json';
import { labelledSetJson, loadLabelledData, loadMnist, mnistSplitOf } from '../../apps/cli/src/offline/labelled-samples';
import { writeManifestThresholds } from '../../apps/cli/src/offline/manifest-thresholds';

const repo = join(__dirname, '..', '..', '..');

test('mnist split: i%5==4 test, i%5==3 val, else train; the test split is ~1/5 of every class', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 8, 9].map(mnistSplitOf), ['train', 'train', 'train', 'val', 'test', 'train', 'val', 'test']);
  const test = loadMnist('test');
  assert.equal(test.samples.length, 1996);
  assert.equal(test.samples[0].id, '0/4');
  assert.equal(test.samples[0].data.length, 784);
  assert.ok(test.samples.every((s) => Number(s.id!.split('/')[1]) % 5 === 4));
});

test('labelled-samples files: written and read back; bad files are refused with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-data-'));
  try {
    const set = loadMnist('val');
    set.samples = set.samples.slice(0, 3);
    const path = join(dir, 'val.json');
    writeFileSync(path, labelledSetJson(set));
    const back = loadLabelledData(path, 784);
    assert.deepEqual(back.samples.map((s) => s.label), set.samples.map((s) => s.label));
    assert.deepEqual(back.samples[1].data, set.samples[1].data); // float32 survives 9 significant digits
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ samples: [{ label: 1, data: [1, 2] }] }));
    assert.throws(() => loadLabelledData(join(dir, 'bad.json'), 784), /samples\[0\]\.data has 2 values; the model's input has 784/);
    writeFileSync(join(dir, 'empty.json'), '{}');
    assert.throws(() => loadLabelledData(join(dir, 'empty.json')), /expected \{"samples"/);
    assert.throws(() => loadLabelledData('mnist:bogus'), /unknown mnist split 'bogus'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('transfer sizes: k and m suffixes, whole FP32 values, at least two sizes', () => {
  assert.deepEqual(parseSizes('1k, 4096,4m'), [1024, 4096, 4 * 1024 * 1024]);
  assert.throws(() => parseSizes('1k,3'), /multiple of 4/);
  assert.throws(() => parseSizes('1k'), /at least two different sizes/);
  assert.throws(() => parseSizes('lots,1k'), /not a size/);
});

test('compact JSON parses back to the same value', () => {
  const value = { a: [1, 2, 3], b: { c: 'x', d: null }, e: [{ f: 1 }, { g: [true, false] }], h: [] };
  assert.deepEqual(JSON.parse(compactJson(value)), value);
  assert.match(compactJson(value), /"a": \[1,2,3\]/);
});

test('manifest thresholds are written in place, keeping the layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-pkg-'));
  try {
    cpSync(join(repo, 'models', 'branchy-mnist'), dir, { recursive: true });
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    writeManifestThresholds(loadModelPackage(dir), [0.91, 0.8, 0]);
    const after = readFileSync(join(dir, 'manifest.json'), 'utf8');
    assert.deepEqual(loadModelPackage(dir).manifest.exits.map((e) => e.threshold), [0.91, 0.8, 0]);
    assert.equal(after.split('\n').length, before.split('\n').length);
    assert.throws(() => writeManifestThresholds(loadModelPackage(dir), [0.9, 0]), /2 thresholds for 3 exits/);
    assert.throws(() => writeManifestThresholds(loadModelPackage(dir), [1.5, 0.8, 0]), /threshold' must be a number from 0 to 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
