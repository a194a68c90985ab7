import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { tinyManifest } from '../support/tiny-manifest';
import { readGatewaySettings } from '@outlet/config';
import { RequestError } from '../../apps/gateway/src/inference-request';
import * as protoLoader from '@grpc/proto-loader';
import { fromInferParameters, grpcCode, toInferParameters, toModelInferResponse, toModelStatistics, toValidInferRequest } from '../../apps/gateway/src/grpc/messages';
import { GRPC_SERVICE_NAME, PROTO_LOADER_OPTIONS, grpcProtoPath, loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';
import { toTritonModelConfig, toTritonModelStat } from '../../apps/gateway/src/statistics-shape';

const manifest = tinyManifest;

const VALUES = [0, 0.5, 1, 0.25];
const le = (values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
};
const typed = (tensor: Record<string, unknown> = {}, over: Record<string, unknown> = {}) => ({
  model_name: 'tiny',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], contents: { fp32_contents: VALUES }, ...tensor }],
  ...over,
});
const raw = (bytes: Buffer, tensor: Record<string, unknown> = {}) => ({
  model_name: 'tiny',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], ...tensor }],
  raw_input_contents: [bytes],
});
const refused = (status: number, message: RegExp) => (e: unknown) => e instanceof RequestError && e.status === status && message.test(e.message);

test('typed and raw contents give the same ValidInferRequest; parameters and id carried', () => {
  const params = { plan: { parameter_choice: 'string_param' as const, string_param: 'serial' }, threshold: { parameter_choice: 'double_param' as const, double_param: 0.5 } };
  const a = toValidInferRequest({ ...typed(), id: 'r1', parameters: params }, manifest);
  assert.equal(a.raw, false);
  assert.deepEqual(Array.from(a.request.data), VALUES);
  assert.deepEqual(a.request.shape, [1, 2, 2]);
  assert.equal(a.request.id, 'r1');
  assert.equal(a.request.plan, 'serial');
  assert.equal(a.request.threshold, 0.5);
  // An odd byteOffset (a view into a larger gRPC buffer) is read correctly.
  const bytes = Buffer.concat([Buffer.from([9]), le(VALUES)]).subarray(1);
  const b = toValidInferRequest(raw(bytes), manifest);
  assert.equal(b.raw, true);
  assert.deepEqual(Array.from(b.request.data), VALUES);
  assert.equal(b.request.id, undefined);
});

test('malformed requests are refused with the HTTP path messages, raw problems named after the rest', () => {
  assert.throws(() => toValidInferRequest(typed({ shape: [1, 4] }), manifest), refused(400, /shape \[1,4\] does not match the model's \[-1,2,2\]/));
  assert.throws(() => toValidInferRequest(typed({ datatype: 'INT32', contents: { int_contents: [1, 2, 3, 4] } }), manifest), refused(400, /datatype "INT32"; expected 'FP32'/));
  assert.throws(() => toValidInferRequest(typed({ name: 'pixels' }), manifest), refused(400, /unknown input 'pixels'/));
  assert.throws(() => toValidInferRequest(typed({ contents: { fp32_contents: [1, 2] } }), manifest), refused(400, /has 2 values but shape \[1,2,2\] needs 4/));
  assert.throws(() => toValidInferRequest(typed({ contents: { int_contents: [1, 2, 3, 4] } }), manifest), refused(400, /no values: send them in inputs\[0\]\.contents\.fp32_contents or in raw_input_contents\[0\]/));
  assert.throws(() => toValidInferRequest(typed({ contents: undefined }), manifest), refused(400, /no values/));
  assert.throws(() => toValidInferRequest(raw(le([1, 2, 3])), manifest), refused(400, /input 'input' has 12 bytes of binary data but shape \[1,2,2\] needs 16/));
  assert.throws(() => toValidInferRequest(raw(Buffer.alloc(15)), manifest), refused(400, /has 15 bytes/));
  assert.throws(() => toValidInferRequest(raw(le([1, 2, 3]), { shape: [1, 3] }), manifest), refused(400, /shape \[1,3\] does not match/));
  assert.throws(() => toValidInferRequest(raw(le([1, 2, 3, 4]), { datatype: 'FP64' }), manifest), refused(400, /datatype "FP64"/));
  assert.throws(() => toValidInferRequest(raw(le([1, NaN, 3, 4])), manifest), refused(400, /value at index 1 is NaN, not a finite number/));
  assert.throws(() => toValidInferRequest({ ...raw(le(VALUES)), raw_input_contents: [le(VALUES), le(VALUES)] }, manifest), refused(400, /raw_input_contents has 2 entries for 1 inputs/));
  assert.throws(() => toValidInferRequest({ ...typed(), raw_input_contents: [le(VALUES)] }, manifest), refused(400, /cannot both be given/));
  assert.throws(() => toValidInferRequest(typed({}, { outputs: [{ name: 'logits' }] }), manifest), refused(400, /unknown output "logits"/));
  assert.throws(() => toValidInferRequest(typed({}, { parameters: { plan: { parameter_choice: 'int64_param', int64_param: 3 } } }), manifest), refused(400, /parameters\.plan must be a string/));
  assert.throws(() => toValidInferRequest(typed({}, { model_version: '7' }), manifest), refused(404, /no version '7' \(served: 1\)/));
  assert.throws(() => toValidInferRequest({ model_name: 'tiny', inputs: [] }, manifest), refused(400, /missing input 'input'/));
});

test('answers: raw bytes for raw requests, fp32_contents otherwise; parameters typed', () => {
  const answer = { model_name: 'tiny', model_version: '1', id: 'r1', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.25, 0.5, 0.25] }], parameters: { exit_index: 1, exit_confidence: 0.5, plan: 'serial', total_ms: 1.25 } };
  const r = toModelInferResponse(answer, true);
  assert.deepEqual(r.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3] }]);
  assert.deepEqual(Array.from(new Float32Array(new Uint8Array(r.raw_output_contents[0]).buffer)), [0.25, 0.5, 0.25]);
  const t = toModelInferResponse(answer, false);
  assert.deepEqual(t.outputs[0].contents, { fp32_contents: [0.25, 0.5, 0.25] });
  assert.deepEqual(t.raw_output_contents, []);
  assert.deepEqual(t.parameters, { exit_index: { int64_param: 1 }, exit_confidence: { double_param: 0.5 }, plan: { string_param: 'serial' }, total_ms: { double_param: 1.25 } });
  assert.deepEqual(fromInferParameters({ a: { parameter_choice: 'bool_param', bool_param: true }, b: { int64_param: 2 } }), { a: true, b: 2 });
  assert.deepEqual(toInferParameters({ a: true }), { a: { bool_param: true } });
  // Whole values keep their schema's kind: a client reads queue_ms and exit_confidence from double_param.
  assert.deepEqual(toInferParameters({ queue_ms: 2, exit_confidence: 1, threshold_version: 3, other: 4, ratio: 0.5 }), {
    queue_ms: { double_param: 2 },
    exit_confidence: { double_param: 1 },
    threshold_version: { int64_param: 3 },
    other: { int64_param: 4 },
    ratio: { double_param: 0.5 },
  });
});

test('HTTP statuses map to gRPC codes; the proto is found; OUTLET_GRPC_PORT is read and checked', () => {
  assert.equal(grpcCode(400), status.INVALID_ARGUMENT);
  assert.equal(grpcCode(404), status.NOT_FOUND);
  assert.equal(grpcCode(503), status.UNAVAILABLE);
  assert.equal(grpcCode(504), status.DEADLINE_EXCEEDED);
  assert.equal(grpcCode(500), status.INTERNAL);
  assert.match(grpcProtoPath(), /apps[/\\]gateway[/\\]proto[/\\]outlet_grpc_predict_v2\.proto$/);
  const service = loadGrpcInferenceService().service;
  assert.deepEqual(Object.values(service).map((m) => m.path).sort(), [
    '/inference.GRPCInferenceService/ModelConfig',
    '/inference.GRPCInferenceService/ModelInfer',
    '/inference.GRPCInferenceService/ModelMetadata',
    '/inference.GRPCInferenceService/ModelReady',
    '/inference.GRPCInferenceService/ModelStatistics',
    '/inference.GRPCInferenceService/ModelStreamInfer',
    '/inference.GRPCInferenceService/RepositoryIndex',
    '/inference.GRPCInferenceService/ServerLive',
    '/inference.GRPCInferenceService/ServerMetadata',
    '/inference.GRPCInferenceService/ServerReady',
  ]);
  assert.equal(readGatewaySettings({}).grpcPort, 8001);
  assert.equal(readGatewaySettings({ OUTLET_GRPC_PORT: '0' }).grpcPort, 0);
  assert.throws(() => readGatewaySettings({ OUTLET_GRPC_PORT: 'grpc' }), /OUTLET_GRPC_PORT='grpc' must be an integer/);
  assert.throws(() => readGatewaySettings({ OUTLET_GRPC_PORT: '70000' }), /OUTLET_GRPC_PORT='70000'/);
});

/** A response through the service's own serializer and back, as a client decodes it. */
function overTheWire(method: string, response: object): any {
  const definition = protoLoader.loadSync(grpcProtoPath(), PROTO_LOADER_OPTIONS)[GRPC_SERVICE_NAME] as protoLoader.ServiceDefinition;
  const { responseSerialize, responseDeserialize } = definition[method];
  return responseDeserialize(responseSerialize(response));
}

test('ModelConfig, ModelStatistics and RepositoryIndex carry the HTTP objects whole: every field has its place in the messages', () => {
  // A field of the HTTP object that the .proto lacks would be dropped by the encoder and missed here.
  const config = toTritonModelConfig({ ...manifest, labels: ['a', 'b', 'c'] }, 'auto');
  const { version_policy, ...rest } = overTheWire('ModelConfig', { config }).config;
  assert.deepEqual({ ...rest, version_policy: { specific: version_policy.specific } }, config);
  assert.equal(version_policy.policy_choice, 'specific');
  const latest = toTritonModelConfig({ ...manifest, version: 'v2' }, 'serial');
  assert.deepEqual(overTheWire('ModelConfig', { config: latest }).config.version_policy.latest, { num_versions: 1 });

  const stat = toTritonModelStat('tiny', '1', 2, { inference_count: 3, execution_count: 3, success_count: 2, success_ns: 9e9, async_success_count: 1, async_success_ns: 1e9, queue_count: 3, queue_ns: 70, 'exit:1:trunk': 3, last_inference: 1.7e12 });
  const { outlet, ...triton } = stat;
  assert.ok(outlet, 'HTTP has Outlet\'s own numbers');
  assert.deepEqual(toModelStatistics(stat), triton, 'gRPC: the same, less `outlet`');
  assert.deepEqual(overTheWire('ModelStatistics', { model_stats: [toModelStatistics(stat)] }).model_stats, [triton]);
  assert.equal(triton.inference_stats.success.ns, 1e10, 'uint64 nanoseconds past 2^32 survive');

  const models = [{ name: 'tiny', version: '1', state: 'READY' }, { name: 'other', version: '2', state: 'UNAVAILABLE', reason: 'no live trunk worker serves it' }];
  assert.deepEqual(overTheWire('RepositoryIndex', { models }).models, models);
});
