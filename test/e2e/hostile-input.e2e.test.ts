/**
 * The hostile-input corpus: every case gets its 4xx (gRPC INVALID_ARGUMENT / NOT_FOUND) with the
 * reason named and any echoed input capped, never a 5xx or a wrong 200; the workers keep serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post, waitForJob } from '../support/http';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

const MODEL = 'branchy-mnist';
const SHAPE = [1, 1, 28, 28];
/** No error message may be longer than this: echoed input is capped at 80 characters. */
const MAX_ERROR_CHARS = 600;
const HUGE = 'x'.repeat(100_000);

/** A body as raw JSON text whose `data` holds the given number literals (1e309 parses as Infinity). */
function literalData(literals: string[], extra = ''): string {
  return `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,28,28],"data":[${literals.join(',')}]}]${extra}}`;
}
/** 784 zeros with `literal` at `index`. */
const withLiteral = (index: number, literal: string) => literalData(Array.from({ length: 784 }, (_, i) => (i === index ? literal : '0')));
const deep = (levels: number) => `${'['.repeat(levels)}0.5${']'.repeat(levels)}`;

interface Framed {
  body: Buffer;
  headers: Record<string, string>;
}
function framed(header: unknown, bytes: Buffer, headerLength?: string): Framed {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, bytes]), headers: { 'Inference-Header-Content-Length': headerLength ?? String(json.byteLength), 'content-type': 'application/octet-stream' } };
}
const fp32Bytes = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);

async function send(url: string, body: unknown): Promise<{ status: number; body: any }> {
  if (body && typeof body === 'object' && 'headers' in body && Buffer.isBuffer((body as Framed).body)) {
    const f = body as Framed;
    const res = await fetch(url, { method: 'POST', body: f.body, headers: f.headers });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) };
  }
  return post(url, body);
}

function call<T = any>(client: grpc.Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    (client as any)[method](request, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

describe('hostile input: 4xx with the reason named, never a 5xx or a wrong 200', () => {
  let system: OutletSystem;
  let client: grpc.Client;
  let infer: string;
  const pixels = heldOutDigit(0, 0);
  const good = inferBody(pixels);
  const tensor = (over: Record<string, unknown>) => ({ inputs: [{ ...good.inputs[0], ...over }] });
  const rows = (n: number, width = 28) => Array.from({ length: n }, () => new Array(width).fill(0.5));
  let corpusSize = 0;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      gatewayEnv: { OUTLET_BODY_LIMIT: '1mb' },
      nodes: [{ nodeId: 'edge-1' }],
    });
    infer = `${system.baseUrl}/v2/models/${MODEL}/infer`;
    client = new (loadGrpcInferenceService())(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await system?.stop();
    // The corpus covers at least 40 cases (HTTP and gRPC together).
    assert.ok(corpusSize >= 40, `the corpus has ${corpusSize} cases`);
  });

  test('HTTP: every hostile body gets its 4xx, the reason named, echoes capped', async () => {
    const jobs = `${system.baseUrl}/v1/jobs`;
    const binaryInput = { name: 'input', datatype: 'FP32', shape: SHAPE, parameters: { binary_data_size: 3136 } };
    const cases: [string, string, unknown, number, RegExp][] = [
      // The cases the e2e tests already had (inference.e2e, oip-http.e2e).
      ['unknown model', `${system.baseUrl}/v2/models/resnet/infer`, good, 404, /unknown model 'resnet'/],
      ['malformed JSON', infer, '{"inputs": [', 400, /malformed JSON/],
      ['missing input', infer, { inputs: [] }, 400, /missing input 'input'/],
      ['unknown input', infer, tensor({ name: 'image' }), 400, /unknown input 'image'/],
      ['wrong datatype', infer, tensor({ datatype: 'INT64' }), 400, /datatype "INT64"; expected 'FP32'/],
      ['wrong shape', infer, tensor({ shape: [1, 28, 28] }), 400, /shape \[1,28,28\] does not match/],
      ['batch of 2', infer, tensor({ shape: [2, 1, 28, 28] }), 400, /batch size 2 is not supported/],
      ['data length', infer, tensor({ data: [1, 2, 3] }), 400, /has 3 values but shape \[1,1,28,28\] needs 784/],
      ['"NaN" as a string', infer, tensor({ data: [...pixels.slice(0, 783), 'NaN'] }), 400, /index 783 is "NaN", not a finite number/],
      ['unknown plan', infer, { ...good, parameters: { plan: 'turbo' } }, 400, /unknown plan or placement 'turbo'/],
      ['unknown placement', infer, { ...good, parameters: { plan: 'branch,gpu' } }, 400, /unknown plan or placement 'gpu'/],
      ['body too large', infer, { ...good, padding: 'x'.repeat(1_100_000) }, 413, /larger than the limit of 1mb/],
      ['unknown job model', jobs, { model: 'resnet', ...good }, 404, /unknown model 'resnet'/],
      ['NaN among the bytes', infer, framed({ inputs: [binaryInput] }, fp32Bytes([NaN, ...pixels.slice(1)])), 400, /value at index 0 is NaN, not a finite number/],
      ['unknown output', infer, { ...good, outputs: [{ name: 'logits' }] }, 400, /unknown output "logits"/],
      ['binary size not fitting', infer, framed({ inputs: [{ ...binaryInput, parameters: { binary_data_size: 3132 } }] }, fp32Bytes(pixels).subarray(0, 3132)), 400, /has 3132 bytes of binary data but shape \[1,1,28,28\] needs 3136/],
      // Structure.
      ['body is an array', infer, [good], 400, /must be a JSON object/],
      ['inputs not an array', infer, { inputs: 'input' }, 400, /"inputs" must be an array/],
      ['no data', infer, tensor({ data: undefined }), 400, /needs "data"/],
      ['data is a string', infer, tensor({ data: HUGE }), 400, /needs "data"/],
      ['shape of strings', infer, tensor({ shape: ['1', '1', '28', '28'] }), 400, /shape must be an array of non-negative integers/],
      ['shape of 10,000 dimensions', infer, tensor({ shape: new Array(10_000).fill(1) }), 400, /shape \[1,1,1,.*…\] does not match the model's \[-1,1,28,28\]/],
      ['id too long', infer, { ...good, id: HUGE }, 400, /"id" must be a string of at most 256 characters/],
      ['parameters not an object', infer, { ...good, parameters: [1] }, 400, /"parameters" must be an object/],
      ['threshold 2', infer, { ...good, parameters: { threshold: 2 } }, 400, /threshold must be a number from 0 to 1/],
      ['threshold 1e309', infer, JSON.stringify(good).replace(/}$/, ',"parameters":{"threshold":1e309}}'), 400, /threshold must be a number from 0 to 1/],
      // Nesting: bounded by the model's rank, and exactly the shape.
      ['data nested 10,000 deep', infer, literalData([deep(10_000)]), 400, /"data" is nested deeper than its shape \[1,1,28,28\] \(4 levels\)/],
      ['data nested 100,000 deep', infer, literalData([deep(100_000)]), 400, /"data" is nested deeper than its shape/],
      ['ragged: [[783 values], 0.5]', infer, tensor({ data: [pixels.slice(0, 783), 0.5] }), 400, /nested "data" must match shape \[1,1,28,28\] exactly: data has 2 entries, not 28/],
      ['nested, 27 rows', infer, tensor({ data: [[rows(27)]] }), 400, /data\[0\]\[0\] has 27 entries, not 28/],
      ['nested, a short row', infer, tensor({ data: [[[...rows(27), new Array(27).fill(0)]]] }), 400, /data\[0\]\[0\]\[27\] has 27 entries, not 28/],
      ['nested, a number for a row', infer, tensor({ data: [[[...rows(27), 0.5]]] }), 400, /data\[0\]\[0\]\[27\] is 0.5, not an array of 28/],
      ['nested one level too deep', infer, tensor({ data: [[rows(28).map((r) => r.map((v) => [v]))]] }), 400, /nested deeper than its shape/],
      ['flat with an array inside', infer, tensor({ data: [...pixels.slice(0, 5), [1, 2], ...pixels.slice(6)] }), 400, /must be flat or nested exactly as shape \[1,1,28,28\]: the value at index 5 is an array/],
      // Values: finite in FP32, the first bad one named as sent.
      ['1e39', infer, withLiteral(0, '1e39'), 400, /value at index 0 is 1e\+39, not a finite number in FP32/],
      ['-1e39', infer, withLiteral(7, '-1e39'), 400, /value at index 7 is -1e\+39, not a finite number in FP32/],
      ['3.5e38', infer, withLiteral(100, '3.5e38'), 400, /value at index 100 is 3\.5e\+38, not a finite number in FP32/],
      ['-3.5e38', infer, withLiteral(783, '-3.5e38'), 400, /value at index 783 is -3\.5e\+38, not a finite number in FP32/],
      ['1e309 (JSON Infinity)', infer, withLiteral(3, '1e309'), 400, /value at index 3 is Infinity, not a finite number/],
      ['-1e309', infer, withLiteral(4, '-1e309'), 400, /value at index 4 is -Infinity, not a finite number/],
      ['null', infer, withLiteral(5, 'null'), 400, /value at index 5 is null, not a finite number/],
      ['true', infer, withLiteral(6, 'true'), 400, /value at index 6 is true, not a finite number/],
      ['an object', infer, withLiteral(8, '{"v":1}'), 400, /value at index 8 is \{"v":1\}, not a finite number/],
      ['a 100 KB string value', infer, tensor({ data: [HUGE, ...pixels.slice(1)] }), 400, /value at index 0 is "x{80}…", not a finite number/],
      ['Infinity among the bytes', infer, framed({ inputs: [binaryInput] }, fp32Bytes([...pixels.slice(0, 9), Infinity, ...pixels.slice(10)])), 400, /value at index 9 is Infinity, not a finite number/],
      ['nested 1e39', infer, literalData([`[[${Array.from({ length: 28 }, (_, r) => `[${new Array(28).fill(r === 1 ? '1e39' : '0').join(',')}]`).join(',')}]]`]), 400, /value at index 28 is 1e\+39/],
      // Echoed text is capped.
      ['100 KB plan', infer, { ...good, parameters: { plan: HUGE } }, 400, /unknown plan or placement 'x{80}…'/],
      ['100 KB plan of placements', infer, { ...good, parameters: { plan: 'branch,'.repeat(15_000) + 'branch' } }, 400, /plan 'branch,branch,.*…' has 15001 placement\(s\)/],
      ['100 KB input name', infer, tensor({ name: HUGE }), 400, /unknown input 'x{80}…'/],
      ['100 KB datatype', infer, tensor({ datatype: HUGE }), 400, /datatype "x{80}…"; expected 'FP32'/],
      ['100 KB output name', infer, { ...good, outputs: [{ name: HUGE }] }, 400, /unknown output "x{80}…"/],
      ['100 KB job model name', jobs, { model: HUGE, ...good }, 404, /unknown model 'x{80}…'/],
      ['100 KB binary_data_size', infer, framed({ inputs: [{ ...binaryInput, parameters: { binary_data_size: HUGE } }] }, fp32Bytes(pixels)), 400, /binary_data_size must be a non-negative integer, not "x{80}…"/],
      ['4 KB header length', infer, framed({ inputs: [binaryInput] }, fp32Bytes(pixels), 'x'.repeat(4000)), 400, /Inference-Header-Content-Length must be a non-negative integer, not "x{80}…"/],
      ['4 KB model name in the path', `${system.baseUrl}/v2/models/${'m'.repeat(4000)}/infer`, good, 404, /unknown model 'm{80}…'/],
      ['4 KB version in the path', `${system.baseUrl}/v2/models/${MODEL}/versions/${'9'.repeat(4000)}/infer`, good, 404, /no version '9{80}…'/],
    ];
    corpusSize += cases.length;
    for (const [name, url, body, status, message] of cases) {
      const res = await send(url, body);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.match(res.body.error, message, name);
      assert.ok(res.body.error.length <= MAX_ERROR_CHARS, `${name}: an error of ${res.body.error.length} characters`);
    }
    const gets: [string, string, number, RegExp][] = [
      ['4 KB job id', `${jobs}/${'j'.repeat(4000)}`, 404, /unknown job 'j{80}…'/],
      ['4 KB model name (ready)', `${system.baseUrl}/v2/models/${'m'.repeat(4000)}/ready`, 404, /unknown model 'm{80}…'/],
    ];
    corpusSize += gets.length;
    for (const [name, url, status, message] of gets) {
      const res = await get(url);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.match(res.body.error, message, name);
      assert.ok(res.body.error.length <= MAX_ERROR_CHARS, `${name}: an error of ${res.body.error.length} characters`);
    }

    // Nested data that matches the shape (leading 1s may be left out) is the flat request's answer.
    const flat = await post(infer, good);
    assert.equal(flat.status, 200);
    const grid = Array.from({ length: 28 }, (_, r) => pixels.slice(r * 28, r * 28 + 28));
    for (const data of [[[grid]], grid]) {
      const nested = await post(infer, tensor({ data }));
      assert.equal(nested.status, 200, JSON.stringify(nested.body).slice(0, 300));
      assert.deepEqual(nested.body.outputs[0].data, flat.body.outputs[0].data);
    }
  });

  test('values the model cannot compute (finite FP32, ±3e38) fail the task, naming the exit: 422, never a 200 with nulls', async () => {
    const huge = Array.from({ length: 784 }, (_, i) => (i % 2 ? 3e38 : -3e38));
    for (const plan of ['serial', 'parallel', 'full']) {
      const res = await post(infer, { ...tensor({ data: huge }), parameters: { plan } });
      assert.equal(res.status, 422, `plan ${plan}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.match(res.body.error, /exit \d of model 'branchy-mnist' returned a non-finite output \(NaN at index 0\)/, plan);
    }
    const submitted = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...tensor({ data: new Array(784).fill(3e38) }) });
    assert.equal(submitted.status, 202);
    const done = await waitForJob(system.baseUrl, submitted.body.id);
    assert.equal(done.state, 'failed');
    assert.match(done.error, /returned a non-finite output/);
    corpusSize += 4;
  });

  test('gRPC: every hostile request gets INVALID_ARGUMENT or NOT_FOUND, the reason named, echoes capped', async () => {
    const input = { name: 'input', datatype: 'FP32', shape: SHAPE };
    const good = { model_name: MODEL, inputs: [input], raw_input_contents: [fp32Bytes(pixels)] };
    const typed = (values: number[]) => ({ model_name: MODEL, inputs: [{ ...input, contents: { fp32_contents: values } }] });
    const { INVALID_ARGUMENT, NOT_FOUND } = grpc.status;
    const cases: [string, string, unknown, grpc.status, RegExp][] = [
      // The cases grpc.e2e already had.
      ['unknown model (infer)', 'ModelInfer', { ...good, model_name: 'resnet' }, NOT_FOUND, /unknown model 'resnet'/],
      ['unknown model (ready)', 'ModelReady', { name: 'resnet' }, NOT_FOUND, /unknown model 'resnet'/],
      ['unknown model (metadata)', 'ModelMetadata', { name: 'resnet' }, NOT_FOUND, /unknown model 'resnet'/],
      ['unknown version', 'ModelInfer', { ...good, model_version: '99' }, NOT_FOUND, /no version '99'/],
      ['wrong shape', 'ModelInfer', { ...good, inputs: [{ ...input, shape: [1, 28, 28] }] }, INVALID_ARGUMENT, /shape \[1,28,28\] does not match/],
      ['raw size mismatch', 'ModelInfer', { ...good, raw_input_contents: [fp32Bytes(pixels.slice(0, 700))] }, INVALID_ARGUMENT, /has 2800 bytes of binary data but shape .* needs 3136/],
      ['wrong datatype', 'ModelInfer', { ...good, inputs: [{ ...input, datatype: 'FP64' }], raw_input_contents: [Buffer.alloc(784 * 8)] }, INVALID_ARGUMENT, /datatype "FP64"; expected 'FP32'/],
      ['typed count', 'ModelInfer', typed([1, 2, 3]), INVALID_ARGUMENT, /has 3 values but shape \[1,1,28,28\] needs 784/],
      ['no values', 'ModelInfer', { model_name: MODEL, inputs: [input] }, INVALID_ARGUMENT, /no values/],
      ['unknown plan', 'ModelInfer', { ...good, parameters: { plan: { string_param: 'turbo' } } }, INVALID_ARGUMENT, /unknown plan or placement 'turbo'/],
      ['unknown output', 'ModelInfer', { ...good, outputs: [{ name: 'logits' }] }, INVALID_ARGUMENT, /unknown output "logits"/],
      // Values not finite in FP32.
      ['fp32_contents Infinity', 'ModelInfer', typed([...pixels.slice(0, 10), Infinity, ...pixels.slice(11)]), INVALID_ARGUMENT, /value at index 10 is Infinity, not a finite number/],
      ['fp32_contents NaN', 'ModelInfer', typed([NaN, ...pixels.slice(1)]), INVALID_ARGUMENT, /value at index 0 is NaN, not a finite number/],
      ['raw -Infinity', 'ModelInfer', { ...good, raw_input_contents: [fp32Bytes([...pixels.slice(0, 783), -Infinity])] }, INVALID_ARGUMENT, /value at index 783 is -Infinity, not a finite number/],
      ['±3e38 (non-finite output)', 'ModelInfer', { ...good, raw_input_contents: [fp32Bytes(pixels.map((_, i) => (i % 2 ? 3e38 : -3e38)))] }, INVALID_ARGUMENT, /returned a non-finite output/],
      // Echoed text is capped.
      ['100 KB plan', 'ModelInfer', { ...good, parameters: { plan: { string_param: HUGE } } }, INVALID_ARGUMENT, /unknown plan or placement 'x{80}…'/],
      ['100 KB version', 'ModelInfer', { ...good, model_version: HUGE }, NOT_FOUND, /no version 'x{80}…'/],
      ['100 KB model name', 'ModelInfer', { ...good, model_name: HUGE }, NOT_FOUND, /unknown model 'x{80}…'/],
      ['100 KB input name', 'ModelInfer', { ...good, inputs: [{ ...input, name: HUGE }] }, INVALID_ARGUMENT, /unknown input 'x{80}…'/],
      ['100 KB output name', 'ModelInfer', { ...good, outputs: [{ name: HUGE }] }, INVALID_ARGUMENT, /unknown output "x{80}…"/],
      ['100 KB datatype', 'ModelInfer', { ...good, inputs: [{ ...input, datatype: HUGE }] }, INVALID_ARGUMENT, /datatype "x{80}…"/],
    ];
    corpusSize += cases.length;
    for (const [what, method, request, code, message] of cases) {
      await assert.rejects(call(client, method, request), (err: grpc.ServiceError) => {
        assert.equal(err.code, code, `${what}: ${grpc.status[err.code]} ${err.details?.slice(0, 300)}`);
        assert.match(err.details, message, what);
        assert.ok(err.details.length <= MAX_ERROR_CHARS, `${what}: an error of ${err.details.length} characters`);
        return true;
      });
    }
  });

  test('after the corpus the workers keep serving: a good request answers 200 over HTTP and gRPC', async () => {
    const res = await post(infer, good);
    assert.equal(res.status, 200);
    assert.equal(res.body.parameters.label, '0');
    const answer = await call(client, 'ModelInfer', { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }], raw_input_contents: [fp32Bytes(pixels)] });
    assert.equal(answer.outputs[0].name, 'probabilities');
    for (const p of system.processes()) assert.ok(p.running, `${p.spec.name} still runs`);
  });
});
