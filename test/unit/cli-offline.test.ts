import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactJson, loadModelPackage } from '@outlet/model-package';
import { readLabelNames } from '../../apps/cli/src/commands/import';
import { parseSizes } from '../../apps/cli/src/commands/transfer';
import { dump as dumpNpy } from 'npyjs';
import { labelledSetJson, loadInputSamples, loadLabelledData, loadMnist, mnistSplitOf } from '../../apps/cli/src/offline/labelled-samples';
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

test('NPY samples: <inputs.npy>,<labels.npy> (float and int64 labels) read as numpy saved them; bad files named with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-npy-'));
  const save = (name: string, data: Parameters<typeof dumpNpy>[0], shape: number[]) => {
    writeFileSync(join(dir, name), Buffer.from(dumpNpy(data, shape)));
    return join(dir, name);
  };
  try {
    const inputs = save('x.npy', Float64Array.from({ length: 3 * 2 * 2 }, (_, i) => i / 10), [3, 1, 2, 2]);
    const labels = save('y.npy', BigInt64Array.from([2n, 0n, 1n]), [3]);
    const set = loadLabelledData(`${inputs},${labels}`, 4);
    assert.deepEqual(set.samples.map((s) => s.label), [2, 0, 1]);
    assert.deepEqual(Array.from(set.samples[1].data), [0.4, 0.5, 0.6, 0.7].map(Math.fround));
    assert.equal(loadInputSamples(inputs, 4).length, 3, 'inputs alone, where no labels are needed');
    assert.throws(() => loadLabelledData(`${inputs},${labels}`, 784), /has 4 values per sample \(shape \[3,1,2,2\]\); the model's input has 784/);
    assert.throws(() => loadLabelledData(inputs, 4), /give the labels too/);
    const short = save('short.npy', Int32Array.from([1, 2]), [2]);
    assert.throws(() => loadLabelledData(`${inputs},${short}`, 4), /has shape \[2\]; expected \[3\]/);
    const negative = save('neg.npy', Int32Array.from([1, -1, 0]), [3]);
    assert.throws(() => loadLabelledData(`${inputs},${negative}`, 4), /label 1 is -1/);
    writeFileSync(join(dir, 'junk.npy'), 'not numpy');
    assert.throws(() => loadInputSamples(join(dir, 'junk.npy')), /cannot read .*junk\.npy as an NPY file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('class names for outlet import: a JSON array of strings or one per line; anything else refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-labels-'));
  try {
    writeFileSync(join(dir, 'a.json'), '["cat", "dog"]');
    writeFileSync(join(dir, 'b.txt'), 'cat\n\n dog \r\n');
    writeFileSync(join(dir, 'c.json'), '[1, 2]');
    assert.deepEqual(readLabelNames(join(dir, 'a.json')), ['cat', 'dog']);
    assert.deepEqual(readLabelNames(join(dir, 'b.txt')), ['cat', 'dog']);
    assert.throws(() => readLabelNames(join(dir, 'c.json')), /c\.json: expected a JSON array of class names/);
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
