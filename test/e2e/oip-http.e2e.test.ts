import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { inferQueueName } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { DirectModel, MODELS_DIR } from '../support/direct';
import { get, post } from '../support/http';
import { TritonRequestOptions, WireRequest, outputValues, postRaw, tritonRequest } from '../support/triton-http';
import { untilIdle } from '../support/poll';
import { fp32ToBytes } from '../../apps/gateway/src/binary-tensor';

const MODEL = 'branchy-mnist';
const DIGITS: [number, number][] = [[7, 0], [3, 1], [8, 2], [5, 3], [2, 4], [9, 5]];

/** The ways tritonclient.http (and curl --data-binary) send a request, each checked against plain JSON. */
const VARIANTS: [string, TritonRequestOptions][] = [
  ['JSON, no content-type', {}],
  ['binary input, JSON output', { binaryInput: true }],
  ['binary input, outputs[].binary_data', { binaryInput: true, binaryOutput: true }],
  ['binary input, binary_data_output (tritonclient default)', { binaryInput: true, binaryDataOutput: true }],
  ['JSON input, binary output', { binaryDataOutput: true }],
  ['binary_data_output overridden by binary_data: false', { binaryInput: true, binaryDataOutput: true, binaryOutput: false }],
  ['gzip body, binary both ways', { binaryInput: true, binaryDataOutput: true, compression: 'gzip' }],
  ['deflate body, JSON', { compression: 'deflate' }],
];

describe('HTTP as tritonclient.http sends it: no content-type, binary tensor data, gzip', () => {
  let system: OutletSystem;
  let direct: DirectModel;
  let infer: string;
  let queue: Queue;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      gatewayEnv: { OUTLET_BODY_LIMIT: '64kb' },
      nodes: [{ nodeId: 'edge-1' }],
    });
    direct = await DirectModel.open(join(MODELS_DIR, MODEL));
    infer = `${system.baseUrl}/v2/models/${MODEL}/infer`;
    queue = new Queue(inferQueueName(MODEL), queueOptions(inferQueueName(MODEL), system.redisUrl));
  });

  after(async () => {
    await queue?.close();
    await direct?.release();
    await system?.stop();
  });

  test('GET /v2 lists the binary tensor data extension', async () => {
    const res = await get(`${system.baseUrl}/v2`);
    assert.equal(res.status, 200);
    assert.ok(res.body.extensions.includes('binary_tensor_data'), JSON.stringify(res.body));
  });

  test('every tritonclient-style request answers as the JSON path does, and as direct onnxruntime to 1e-5', async () => {
    for (const plan of ['serial', 'full']) {
      for (const [label, nth] of DIGITS) {
        const pixels = heldOutDigit(label, nth);
        const reference = await post(infer, inferBody(pixels, { plan }));
        assert.equal(reference.status, 200, JSON.stringify(reference.body));
        const exits = await direct.allExits(pixels);
        for (const [name, options] of VARIANTS) {
          const what = `${name}, digit ${label}#${nth}, plan ${plan}`;
          const res = await postRaw(infer, tritonRequest(pixels, { ...options, parameters: { plan }, id: `t${label}` }));
          assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.json)}`);
          assert.equal(res.json.id, `t${label}`);
          assert.equal(res.json.parameters.exit_index, reference.body.parameters.exit_index, what);
          assert.equal(res.json.parameters.label, String(label), what);
          const output = res.json.outputs[0];
          assert.equal(output.name, 'probabilities');
          assert.deepEqual(output.shape, [1, 10]);
          const binaryOut = options.binaryOutput ?? options.binaryDataOutput ?? false;
          if (binaryOut) {
            assert.equal(output.data, undefined, `${what}: a binary output has no "data"`);
            assert.equal(output.parameters.binary_data_size, 40, what);
            assert.equal(res.headers.get('content-type'), 'application/octet-stream', what);
            assert.ok(Number(res.headers.get('inference-header-content-length')) > 0, what);
          } else {
            assert.equal(res.headers.get('inference-header-content-length'), null, what);
            assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
          }
          const values = outputValues(res);
          assert.deepEqual(values, reference.body.outputs[0].data, `${what}: the same values as the JSON path`);
          const expected = exits[res.json.parameters.exit_index];
          values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-5, `${what}, value ${i}: ${v} vs direct ${expected[i]}`));
        }
      }
    }
  });

  test('curl --data-binary (form content-type) and /versions/1/infer with binary tensors both work', async () => {
    const pixels = heldOutDigit(4, 0);
    const form = await postRaw(infer, { body: Buffer.from(JSON.stringify(inferBody(pixels))), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 200, JSON.stringify(form.json));
    assert.equal(form.json.parameters.label, '4');
    const versioned = await postRaw(`${system.baseUrl}/v2/models/${MODEL}/versions/1/infer`, tritonRequest(pixels, { binaryInput: true, binaryDataOutput: true }));
    assert.equal(versioned.status, 200, JSON.stringify(versioned.json));
    assert.equal(versioned.tensors.get('probabilities')?.length, 10);
    assert.equal(versioned.json.parameters.label, '4');
  });

  test('every malformed framing or encoding gets its 4xx naming it, reaches no worker, and the worker goes on serving', async () => {
    const pixels = heldOutDigit(1, 0);
    const good = tritonRequest(pixels, { binaryInput: true, binaryDataOutput: true });
    const headerLength = Number(good.headers['Inference-Header-Content-Length']);
    const json = good.body.subarray(0, headerLength);
    const bytes = good.body.subarray(headerLength);
    const withHeader = (body: Buffer, length: number | string): WireRequest => ({ body, headers: { 'Inference-Header-Content-Length': String(length) } });
    const jsonHeader = (edit: (h: any) => void) => {
      const h = JSON.parse(json.toString());
      edit(h);
      return Buffer.from(JSON.stringify(h));
    };
    const framed = (h: Buffer, ...tail: Buffer[]) => withHeader(Buffer.concat([h, ...tail]), h.byteLength);
    const cases: [string, WireRequest, number, RegExp][] = [
      ['header length beyond the body', withHeader(good.body, good.body.byteLength + 1), 400, /Inference-Header-Content-Length is \d+ but the body has only \d+ bytes/],
      ['header length not a number', withHeader(good.body, 'twelve'), 400, /Inference-Header-Content-Length must be a non-negative integer/],
      ['header length inside the JSON', withHeader(good.body, 10), 400, /malformed JSON body/],
      ['truncated bytes', withHeader(good.body.subarray(0, good.body.byteLength - 7), headerLength), 400, /add up to 3136 bytes but 3129 bytes follow.*truncated/],
      ['extra bytes', framed(json, bytes, Buffer.alloc(8)), 400, /add up to 3136 bytes but 3144 bytes follow/],
      ['size not fitting the shape', framed(jsonHeader((h) => (h.inputs[0].parameters.binary_data_size = 3132)), bytes.subarray(0, 3132)), 400, /has 3132 bytes of binary data but shape \[1,1,28,28\] needs 3136/],
      ['binary input with data too', framed(jsonHeader((h) => (h.inputs[0].data = pixels)), bytes), 400, /has binary data and "data" too/],
      ['binary size, no header', { body: good.body, headers: {} }, 400, /malformed JSON body/],
      ['binary size, JSON only', { body: json, headers: {} }, 400, /no Inference-Header-Content-Length header/],
      ['bytes but no binary input', framed(jsonHeader((h) => ((h.inputs[0].parameters = undefined), (h.inputs[0].data = pixels))), bytes), 400, /add up to 0 bytes but 3136 bytes follow/],
      ['NaN among the bytes', framed(json, fp32ToBytes([NaN, ...pixels.slice(1)])), 400, /value at index 0 is NaN, not a finite number/],
      ['unknown output', framed(jsonHeader((h) => (h.outputs = [{ name: 'logits', parameters: { binary_data: true } }])), bytes), 400, /unknown output "logits"/],
      ['bad gzip stream', { body: Buffer.from('this is not gzip'), headers: { 'Content-Encoding': 'gzip' } }, 400, /malformed gzip request body/],
      ['truncated gzip stream', { body: gzipSync(good.body).subarray(0, 100), headers: { ...good.headers, 'Content-Encoding': 'gzip' } }, 400, /malformed gzip request body/],
      ['gzip inflating beyond the limit', { body: gzipSync(Buffer.alloc(200_000, 32)), headers: { 'Content-Encoding': 'gzip' } }, 413, /larger than the limit of 64kb/],
      ['unknown content encoding', { body: good.body, headers: { ...good.headers, 'Content-Encoding': 'compress' } }, 415, /unsupported Content-Encoding "compress"/],
      ['malformed JSON, no content-type', { body: Buffer.from('{"inputs": ['), headers: {} }, 400, /malformed JSON body/],
    ];
    // Earlier tests' jobs finish moving to "completed" just after their answers: wait for them.
    await untilIdle(queue);
    const before = await queue.getJobCounts();
    for (const [name, req, status, message] of cases) {
      const res = await fetch(infer, { method: 'POST', body: req.body, headers: req.headers });
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
      assert.match(body.error, message, name);
    }
    assert.deepEqual(await queue.getJobCounts(), before, 'no malformed request became a job');
    const ok = await postRaw(infer, good);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.parameters.label, '1');
  });
});
