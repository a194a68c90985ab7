import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferToFloat32, elementCount, float32ToBuffer } from '@outlet/contracts';

test('FP32 values survive the binary round trip bit for bit', () => {
  const values = Float32Array.from([0, -1.5, 3.4028234663852886e38, 1e-45, Math.PI]);
  const back = bufferToFloat32(float32ToBuffer(values));
  assert.deepEqual(Array.from(back), Array.from(values));
  assert.equal(float32ToBuffer(values).byteLength, 20);
});

test('an unaligned Buffer slice decodes correctly', () => {
  const bytes = Buffer.concat([Buffer.from([9]), float32ToBuffer(Float32Array.from([7.25, -2]))]).subarray(1);
  assert.deepEqual(Array.from(bufferToFloat32(bytes)), [7.25, -2]);
});

test('a byte count that is not a multiple of 4 is refused', () => {
  assert.throws(() => bufferToFloat32(Buffer.alloc(6)), /6 bytes is not a whole number of FP32 values/);
});

test('elementCount multiplies the dimensions', () => {
  assert.equal(elementCount([1, 1, 28, 28]), 784);
  assert.equal(elementCount([]), 1);
});
