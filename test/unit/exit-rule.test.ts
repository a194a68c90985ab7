import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argMax, isConfident, maxProbability } from '@outlet/inference';

test('the head is confident when its max probability reaches the threshold', () => {
  const p = Float32Array.from([0.05, 0.9, 0.05]);
  assert.equal(argMax(p), 1);
  assert.ok(Math.abs(maxProbability(p) - 0.9) < 1e-6);
  assert.equal(isConfident(p, 0.8), true);
  assert.equal(isConfident(p, 0.95), false);
  assert.equal(isConfident([0.5, 0.5], 0.5), true, 'reaching the threshold exactly counts');
  assert.equal(isConfident([0.1, 0.2], 0), true, 'threshold 0 always exits');
});

test('an empty output is an error, not a silent exit', () => {
  assert.throws(() => maxProbability([]), /no probabilities/);
});
