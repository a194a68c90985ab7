import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestError, earlyExitCount, validateManifest } from '@outlet/model-package';

const good = () => ({
  name: 'tiny',
  version: '1',
  input: { name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] },
  output: { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  segments: [
    { file: 's1.onnx', output_shape: [-1, 8, 14, 14] },
    { file: 's2.onnx', output_shape: [-1, 16, 7, 7] },
  ],
  exits: [
    { file: 'e1.onnx', after_segment: 0, threshold: 0.9 },
    { file: 'e2.onnx', after_segment: 1, threshold: 0 },
  ],
});

test('a good manifest validates', () => {
  const m = validateManifest(good());
  assert.equal(m.name, 'tiny');
  assert.equal(earlyExitCount(m), 1);
});

test('each bad field is named in the error', () => {
  const cases: [(m: any) => void, RegExp][] = [
    [(m) => delete m.name, /'name' must be a non-empty string/],
    [(m) => (m.name = 'a/b'), /'name' may hold only/],
    [(m) => (m.input.datatype = 'INT8'), /'input.datatype' is 'INT8'/],
    [(m) => (m.input.shape = [1, -1, 28]), /'input.shape\[1\]' must be a positive integer/],
    [(m) => (m.segments = []), /'segments' must be a non-empty array/],
    [(m) => (m.segments[1].file = '../x.onnx'), /'segments\[1\].file' must be a file name inside the package/],
    [(m) => (m.segments[0].file = 's1.pt'), /'segments\[0\].file' must name an .onnx file/],
    [(m) => (m.exits[0].after_segment = 5), /'exits\[0\].after_segment' must be a segment index from 0 to 1/],
    [(m) => (m.exits[0].threshold = 1.5), /'exits\[0\].threshold' must be a number from 0 to 1/],
    [(m) => (m.exits[1].after_segment = 0), /'exits\[1\].after_segment' must be greater than the previous/],
    [(m) => m.exits.pop(), /'exits\[0\].after_segment' must be the last segment/],
    [(m) => (m.labels = ['a']), /'labels' has 1 entries but the output has 10 classes/],
  ];
  for (const [spoil, message] of cases) {
    const m = good();
    spoil(m);
    assert.throws(() => validateManifest(m), (e: Error) => e instanceof ManifestError && message.test(e.message), String(message));
  }
  assert.throws(() => validateManifest([]), /'\(root\)' must be a JSON object/);
});
