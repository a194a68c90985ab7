import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyManifest } from '../support/tiny-manifest';
import { RequestError, validateInferRequest } from '../../apps/gateway/src/inference-request';

const manifest = tinyManifest;

const request = (over: Record<string, unknown> = {}, tensor: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: [0, 0.5, 1, 0.25], ...tensor }],
  ...over,
});

test('a valid request yields FP32 data, shape and parameters', () => {
  const v = validateInferRequest(request({ id: 'r1', parameters: { plan: 'serial', threshold: 0.5 } }), manifest);
  assert.deepEqual(Array.from(v.data), [0, 0.5, 1, 0.25]);
  assert.deepEqual(v.shape, [1, 2, 2]);
  assert.equal(v.id, 'r1');
  assert.equal(v.plan, 'serial');
  assert.equal(v.threshold, 0.5);
  assert.equal(validateInferRequest(request({ parameters: { plan: 'auto' } }), manifest).plan, 'auto');
  assert.equal(validateInferRequest(request({}, { data: [[0, 0.5], [1, 0.25]] }), manifest).data.length, 4);
});

test('every malformed request is a 400 that names the problem', () => {
  const cases: [unknown, RegExp][] = [
    ['text', /must be a JSON object/],
    [{}, /"inputs" must be an array/],
    [{ inputs: [] }, /missing input 'input'/],
    [request({}, { name: 'pixels' }), /unknown input 'pixels'/],
    [request({}, { datatype: 'INT32' }), /datatype "INT32"; expected 'FP32'/],
    [request({}, { shape: [1, 4] }), /shape \[1,4\] does not match the model's \[-1,2,2\]/],
    [request({}, { shape: [1, 2, 3] }), /does not match the model's \[-1,2,2\] at dimension 2/],
    [request({}, { shape: [2, 2, 2] }), /batch size 2 is not supported yet/],
    [request({}, { data: [1, 2, 3] }), /has 3 values but shape \[1,2,2\] needs 4/],
    [request({}, { data: [1, 2, 'x', 4] }), /value at index 2 is "x", not a finite number/],
    [request({}, { data: [1, null, 3, 4] }), /value at index 1 is null/],
    [request({ parameters: { plan: 'fastest' } }), /parameters.plan: unknown plan or placement 'fastest'/],
    [request({ parameters: { plan: 'branch,trunk' } }), /has 2 placement\(s\) but the model has 1 early exit/],
    [request({ parameters: { threshold: 2 } }), /parameters.threshold must be a number from 0 to 1/],
    [request({ outputs: [{ name: 'logits' }] }), /unknown output "logits"/],
    [request({ id: 7 }), /"id" must be a string/],
  ];
  for (const [body, message] of cases) {
    assert.throws(
      () => validateInferRequest(body, manifest),
      (e: Error) => e instanceof RequestError && e.status === 400 && message.test(e.message),
      String(message),
    );
  }
});
