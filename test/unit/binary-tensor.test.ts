import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyManifest } from '../support/tiny-manifest';
import { RequestError, validateInferRequest } from '../../apps/gateway/src/inference-request';
import {
  decodeInferBody,
  decodeInferResponse,
  encodeInferResponse,
  fp32ToBytes,
  frameBinaryBody,
  sliceBinaryInputs,
  splitInferenceBody,
} from '../../apps/gateway/src/binary-tensor';

const manifest = tinyManifest;

const VALUES = [0, 0.5, 1, 0.1]; // 0.1 is not exact in FP32: the bytes carry the FP32 value
const binaryInput = (size = 16, extra: Record<string, unknown> = {}) => ({
  name: 'input',
  datatype: 'FP32',
  shape: [1, 2, 2],
  parameters: { binary_data_size: size },
  ...extra,
});

/** A body as tritonclient.http frames it: JSON header, then the raw bytes; returns body and header length. */
function framed(header: unknown, ...tensors: Buffer[]): [Buffer, string] {
  const { body, headerLength } = frameBinaryBody(header, tensors);
  return [body, String(headerLength)];
}

test('a JSON body without Inference-Header-Content-Length is all JSON', () => {
  const { json, binary } = splitInferenceBody(Buffer.from('{"inputs":[]}'), undefined);
  assert.deepEqual(json, { inputs: [] });
  assert.equal(binary, undefined);
  assert.deepEqual(splitInferenceBody(Buffer.alloc(0), undefined).json, {});
});

test('a binary input decodes to the same FP32 values as its JSON form', () => {
  const [body, length] = framed({ id: 'b1', inputs: [binaryInput()], parameters: { binary_data_output: true, plan: 'serial' } }, fp32ToBytes(VALUES));
  const v = decodeInferBody(body, length, manifest);
  const fromJson = validateInferRequest({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: VALUES }] }, manifest);
  assert.deepEqual(Array.from(v.data), Array.from(fromJson.data));
  assert.deepEqual(v.shape, [1, 2, 2]);
  assert.equal(v.id, 'b1');
  assert.equal(v.plan, 'serial');
  assert.deepEqual(v.binaryOutputs, ['probabilities']);
  // A header length equal to the body (no binary input) is plain JSON framed.
  const [jsonOnly, jl] = framed({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: VALUES }] });
  assert.deepEqual(Array.from(decodeInferBody(jsonOnly, jl, manifest).data), Array.from(fromJson.data));
});

test('binary bytes at an odd offset (unaligned) still decode', () => {
  let pad = '';
  while (frameBinaryBody({ inputs: [binaryInput()], pad }, []).headerLength % 4 !== 1) pad += 'x';
  const [body, length] = framed({ inputs: [binaryInput()], pad }, fp32ToBytes(VALUES));
  const shifted = Buffer.concat([Buffer.from(' '), body]).subarray(1);
  assert.notEqual((shifted.byteOffset + Number(length)) % 4, 0);
  assert.deepEqual(Array.from(decodeInferBody(shifted, length, manifest).data), Array.from(Float32Array.from(VALUES)));
});

test('sliceBinaryInputs cuts the bytes per input, in order, JSON inputs left undefined', () => {
  const tensor = (name: string, rest: object) => ({ name, shape: [1], datatype: 'FP32' as const, ...rest });
  const body = { inputs: [tensor('a', { parameters: { binary_data_size: 2 } }), tensor('b', { data: [1] }), tensor('c', { parameters: { binary_data_size: 3 } })] };
  const parts = sliceBinaryInputs(body, Buffer.from([1, 2, 3, 4, 5]));
  assert.deepEqual(parts.map((p) => (p ? Array.from(p) : undefined)), [[1, 2], undefined, [3, 4, 5]]);
  assert.deepEqual(sliceBinaryInputs({ inputs: [tensor('a', { data: [] })] }, undefined), [undefined]);
});

test('every malformed framing is a 400 naming the problem', () => {
  const good = fp32ToBytes(VALUES);
  const cases: [string, () => unknown, RegExp][] = [
    ['header length beyond the body', () => decodeInferBody(Buffer.from('{"inputs":[]}'), '999', manifest), /Inference-Header-Content-Length is 999 but the body has only 13 bytes/],
    ['header length not a number', () => decodeInferBody(Buffer.from('{}'), 'abc', manifest), /Inference-Header-Content-Length must be a non-negative integer/],
    ['header length negative', () => decodeInferBody(Buffer.from('{}'), '-1', manifest), /must be a non-negative integer/],
    ['header length cuts the JSON', () => decodeInferBody(...framedCut(), manifest), /malformed JSON body/],
    ['truncated bytes', () => decodeInferBody(...framed({ inputs: [binaryInput()] }, good.subarray(0, 10)), manifest), /add up to 16 bytes but 10 bytes follow.*truncated/],
    ['extra bytes', () => decodeInferBody(...framed({ inputs: [binaryInput()] }, good, Buffer.alloc(4)), manifest), /add up to 16 bytes but 20 bytes follow/],
    ['bytes but no binary input', () => decodeInferBody(...framed({ inputs: [{ ...binaryInput(), parameters: undefined, data: VALUES }] }, good), manifest), /add up to 0 bytes but 16 bytes follow/],
    ['size does not fit the shape', () => decodeInferBody(...framed({ inputs: [binaryInput(12)] }, good.subarray(0, 12)), manifest), /has 12 bytes of binary data but shape \[1,2,2\] needs 16/],
    ['size not an integer', () => decodeInferBody(...framed({ inputs: [binaryInput(15.5 as number)] }, good), manifest), /binary_data_size must be a non-negative integer, not 15.5/],
    ['size a string', () => decodeInferBody(...framed({ inputs: [binaryInput('16' as unknown as number)] }, good), manifest), /binary_data_size must be a non-negative integer, not "16"/],
    ['binary input with data too', () => decodeInferBody(...framed({ inputs: [binaryInput(16, { data: VALUES })] }, good), manifest), /has binary data and "data" too/],
    ['binary size without the header', () => decodeInferBody(Buffer.from(JSON.stringify({ inputs: [binaryInput()] })), undefined, manifest), /no Inference-Header-Content-Length header/],
    ['binary size, no bytes, through validateInferRequest', () => validateInferRequest({ inputs: [binaryInput()] }, manifest), /declares parameters.binary_data_size but no binary data/],
    ['NaN in the bytes', () => decodeInferBody(...framed({ inputs: [binaryInput()] }, fp32ToBytes([0, NaN, 1, 1])), manifest), /value at index 1 is NaN, not a finite number/],
    ['malformed JSON', () => decodeInferBody(Buffer.from('{"inputs": ['), undefined, manifest), /malformed JSON body/],
    ['binary_data_output not boolean', () => decodeInferBody(...framed({ inputs: [binaryInput()], parameters: { binary_data_output: 'yes' } }, good), manifest), /binary_data_output must be true or false/],
    ['binary_data not boolean', () => decodeInferBody(...framed({ inputs: [binaryInput()], outputs: [{ name: 'probabilities', parameters: { binary_data: 1 } }] }, good), manifest), /parameters.binary_data must be true or false/],
    ['unknown output', () => decodeInferBody(...framed({ inputs: [binaryInput()], outputs: [{ name: 'logits', parameters: { binary_data: true } }] }, good), manifest), /unknown output "logits"/],
  ];
  for (const [name, run, message] of cases) {
    assert.throws(run, (err: unknown) => err instanceof RequestError && err.status === 400 && message.test(err.message), name);
  }
});

function framedCut(): [Buffer, string] {
  const [body] = framed({ inputs: [binaryInput()] }, fp32ToBytes(VALUES));
  return [body, '5'];
}

test('which outputs answer as binary: the output parameter, else binary_data_output, JSON by default', () => {
  const base = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: VALUES }] };
  const outputs = (body: Record<string, unknown>) => validateInferRequest({ ...base, ...body }, manifest).binaryOutputs;
  assert.equal(outputs({}), undefined);
  assert.deepEqual(outputs({ parameters: { binary_data_output: true } }), ['probabilities']);
  assert.deepEqual(outputs({ outputs: [{ name: 'probabilities', parameters: { binary_data: true } }] }), ['probabilities']);
  assert.equal(outputs({ outputs: [{ name: 'probabilities', parameters: { binary_data: false } }], parameters: { binary_data_output: true } }), undefined);
  assert.deepEqual(outputs({ outputs: [{ name: 'probabilities' }], parameters: { binary_data_output: true } }), ['probabilities']);
  assert.equal(outputs({ outputs: [{ name: 'probabilities' }] }), undefined);
});

test('a binary response carries the header length, binary_data_size and no data; it decodes to the same values', () => {
  const probabilities = Array.from(Float32Array.from([0.1, 0.7, 0.2]));
  const response = { model_name: 'tiny', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: probabilities }], parameters: { exit_index: 0 } };
  assert.equal(encodeInferResponse(response, new Set()).binary, undefined);
  const { json, binary } = encodeInferResponse(response, new Set(['probabilities']));
  assert.ok(binary);
  assert.equal(json.outputs[0].data, undefined);
  assert.deepEqual(json.outputs[0].parameters, { binary_data_size: 12 });
  assert.equal(binary.body.byteLength, binary.headerLength + 12);
  assert.deepEqual(JSON.parse(binary.body.subarray(0, binary.headerLength).toString()), json);
  const decoded = decodeInferResponse(binary.body, binary.headerLength);
  assert.deepEqual(Array.from(decoded.tensors.get('probabilities')!), probabilities);
  assert.equal(decoded.json.parameters.exit_index, 0);
  assert.deepEqual(response.outputs[0].data, probabilities, 'the answer itself is left as it was');
});
