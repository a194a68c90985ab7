import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECHO_MAX_CHARS, echoText, echoValue } from '@outlet/contracts';
import { NonFiniteOutputError, checkFiniteOutput, firstNonFinite } from '@outlet/inference';
import { tinyManifest } from '../support/tiny-manifest';
import { RequestError, validateInferRequest } from '../../apps/gateway/src/inference-request';

const request = (data: unknown) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data }] });
const refused = (message: RegExp) => (e: Error) => e instanceof RequestError && e.status === 400 && message.test(e.message) && e.message.length < 400;

test('echoed text is capped at 80 characters and never throws', () => {
  assert.equal(echoText('plan'), 'plan');
  assert.equal(echoText('x'.repeat(80)), 'x'.repeat(80));
  assert.equal(echoText('x'.repeat(100_000)), `${'x'.repeat(ECHO_MAX_CHARS)}…`);
  assert.equal(echoText('😀'.repeat(100)), `${'😀'.repeat(80)}…`, 'code points, not UTF-16 halves');
  assert.equal(echoValue('INT64'), '"INT64"');
  assert.equal(echoValue(1e39), '1e+39');
  assert.equal(echoValue(Infinity), 'Infinity');
  assert.equal(echoValue(null), 'null');
  assert.equal(echoValue(undefined), 'undefined');
  assert.equal(echoValue({ v: 1 }), '{"v":1}');
  let deep: unknown = 0;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.ok(echoValue(deep).length <= ECHO_MAX_CHARS + 1);
});

test('nested data: bounded by the rank, exactly the shape (leading 1s optional), or flat', () => {
  const ok = (data: unknown) => Array.from(validateInferRequest(request(data), tinyManifest).data);
  assert.deepEqual(ok([0, 0.5, 1, 0.25]), [0, 0.5, 1, 0.25]);
  assert.deepEqual(ok([[[0, 0.5], [1, 0.25]]]), [0, 0.5, 1, 0.25]);
  assert.deepEqual(ok([[0, 0.5], [1, 0.25]]), [0, 0.5, 1, 0.25]);
  let deep: unknown = 0.5;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const cases: [unknown, RegExp][] = [
    [deep, /nested deeper than its shape \[1,2,2\] \(3 levels\)/],
    [[[0, 0.5, 1], 0.25], /must match shape \[1,2,2\] exactly: data\[0\] has 3 entries, not 2/],
    [[[0, 0.5], 1, 0.25], /data has 3 entries, not 2/],
    [[[0, 0.5], 1], /data\[1\] is 1, not an array of 2/],
    [[[[0], 0.5], [1, 0.25]], /data has 2 entries, not 1/],
    [[[[0, [0.5]], [1, 0.25]]], /nested deeper than its shape \[1,2,2\] \(3 levels\) at data\[0\]\[0\]\[1\]/],
    [[0, [0.5], 1, 0.25], /the value at index 1 is an array/],
  ];
  for (const [data, message] of cases) assert.throws(() => validateInferRequest(request(data), tinyManifest), refused(message), String(message));
});

test('values must be finite in FP32: the first bad one is named as sent, with its index', () => {
  const cases: [unknown[], RegExp][] = [
    [[0, 1e39, 0, 0], /index 1 is 1e\+39, not a finite number in FP32/],
    [[0, 0, -3.5e38, 0], /index 2 is -3\.5e\+38, not a finite number in FP32/],
    [[0, 0, 0, Infinity], /index 3 is Infinity, not a finite number/],
    [[[[0, NaN], [0, 0]]], /index 1 is NaN, not a finite number/],
    [[[0, 0], [0, 'x'.repeat(1000)]], /index 3 is "x{80}…", not a finite number/],
  ];
  for (const [data, message] of cases) assert.throws(() => validateInferRequest(request(data), tinyManifest), refused(message), String(message));
  assert.equal(validateInferRequest(request([3.4028234663852886e38, -3e38, 0, 0]), tinyManifest).data[0], 3.4028234663852886e38, 'FP32 max is finite');
});

test('a non-finite head output is an error naming the exit', () => {
  assert.equal(firstNonFinite([0.1, 0.9]), -1);
  assert.equal(firstNonFinite(Float32Array.from([0.1, NaN, Infinity])), 1);
  assert.doesNotThrow(() => checkFiniteOutput([0.1, 0.9], 0));
  assert.throws(() => checkFiniteOutput([0.1, -Infinity], 2, 'm'), (e: Error) => e instanceof NonFiniteOutputError && /exit 2 of model 'm' returned a non-finite output \(-Infinity at index 1\)/.test(e.message));
});
