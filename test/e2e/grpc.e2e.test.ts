import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { DirectModel, MODELS_DIR } from '../support/direct';
import { post } from '../support/http';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

const MODEL = 'branchy-mnist';
const SHAPE = [1, 1, 28, 28];

/** One unary call as a promise; a refusal rejects with the gRPC ServiceError (code, details). */
function call<T = any>(client: grpc.Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    (client as any)[method](request, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

const fp32Bytes = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);
const fromBytes = (bytes: Uint8Array) => Array.from(new Float32Array(Uint8Array.from(bytes).buffer));
const param = (p: any) => p[p.parameter_choice];

describe('the Open Inference Protocol v2 over gRPC (inference.GRPCInferenceService)', () => {
  let system: OutletSystem;
  let direct: DirectModel;
  let client: grpc.Client;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-1' }],
    });
    direct = await DirectModel.open(join(MODELS_DIR, MODEL));
    const Service = loadGrpcInferenceService();
    client = new Service(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await direct?.release();
    await system?.stop();
  });

  test('the gateway logs its gRPC address', () => {
    assert.ok(system.grpcPort > 0);
    assert.ok(system.gateway.lines().some((l) => l.includes(`gRPC localhost:${system.grpcPort}`)), 'gateway log names the gRPC address');
  });

  test('health and metadata', async () => {
    assert.deepEqual(await call(client, 'ServerLive', {}), { live: true });
    assert.deepEqual(await call(client, 'ServerReady', {}), { ready: true });
    assert.deepEqual(await call(client, 'ModelReady', { name: MODEL }), { ready: true });
    const server = await call(client, 'ServerMetadata', {});
    assert.equal(server.name, 'outlet');
    assert.equal(typeof server.version, 'string');
    assert.deepEqual(server.extensions, ['binary_tensor_data', 'statistics', 'model_configuration', 'schedule_policy'], 'the same extensions as GET /v2');
    const meta = await call(client, 'ModelMetadata', { name: MODEL });
    assert.equal(meta.name, MODEL);
    assert.equal(meta.platform, 'outlet_multi_exit_onnx');
    assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }]);
    assert.equal(meta.outputs[0].name, 'probabilities');
    assert.deepEqual(await call(client, 'ModelReady', { name: MODEL, version: meta.versions[0] }), { ready: true });
  });

  test('ModelInfer, raw and typed, equals direct onnxruntime and the HTTP answer', async () => {
    for (const [label, nth] of [[7, 0], [3, 1], [8, 2], [2, 4]]) {
      const pixels = heldOutDigit(label, nth);
      const exits = await direct.allExits(pixels);
      const http = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(pixels, { plan: 'serial' }));
      assert.equal(http.status, 200, JSON.stringify(http.body));
      const plan = { plan: { string_param: 'serial' } };

      const raw = await call(client, 'ModelInfer', {
        model_name: MODEL,
        id: `raw-${label}`,
        parameters: plan,
        inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }],
        raw_input_contents: [fp32Bytes(pixels)],
      });
      const typed = await call(client, 'ModelInfer', {
        model_name: MODEL,
        id: `typed-${label}`,
        parameters: plan,
        inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE, contents: { fp32_contents: pixels } }],
        outputs: [{ name: 'probabilities' }],
      });

      for (const [how, res, values] of [
        ['raw', raw, fromBytes(raw.raw_output_contents[0])],
        ['typed', typed, typed.outputs[0].contents?.fp32_contents],
      ] as const) {
        assert.equal(res.model_name, MODEL);
        assert.equal(res.id, `${how}-${label}`);
        assert.equal(res.outputs.length, 1);
        assert.equal(res.outputs[0].name, 'probabilities');
        assert.equal(res.outputs[0].datatype, 'FP32');
        assert.deepEqual(res.outputs[0].shape, [1, 10]);
        assert.equal(values.length, 10, `${how}: ten probabilities`);
        const exit = param(res.parameters.exit_index);
        assert.equal(exit, http.body.parameters.exit_index, `${how}: the same exit answers over gRPC and HTTP`);
        assert.equal(param(res.parameters.exit_count), 3);
        assert.equal(param(res.parameters.plan), http.body.parameters.plan);
        assert.equal(param(res.parameters.plan_source), 'request');
        assert.equal(param(res.parameters.node_id), 'edge-1');
        assert.equal(param(res.parameters.label), String(label), `${how}: digit ${label}`);
        assert.equal(typeof param(res.parameters.total_ms), 'number');
        values.forEach((v: number, i: number) => {
          assert.ok(Math.abs(v - exits[exit][i]) <= 1e-5, `${how} ${label}: value ${i}: gRPC ${v} vs direct onnxruntime ${exits[exit][i]}`);
          assert.ok(Math.abs(v - http.body.outputs[0].data[i]) <= 1e-6, `${how} ${label}: value ${i}: gRPC ${v} vs HTTP ${http.body.outputs[0].data[i]}`);
        });
      }
      assert.deepEqual(raw.outputs[0].contents ?? null, null, 'a raw answer carries no typed contents');
      assert.deepEqual(typed.raw_output_contents, [], 'a typed answer carries no raw contents');
    }
  });

  test('malformed requests get their gRPC status and the workers keep serving', async () => {
    const pixels = heldOutDigit(4, 0);
    const good = { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }], raw_input_contents: [fp32Bytes(pixels)] };
    const cases: [string, string, unknown, grpc.status, RegExp][] = [
      ['unknown model (infer)', 'ModelInfer', { ...good, model_name: 'resnet' }, grpc.status.NOT_FOUND, /unknown model 'resnet'/],
      ['unknown model (ready)', 'ModelReady', { name: 'resnet' }, grpc.status.NOT_FOUND, /unknown model 'resnet'/],
      ['unknown model (metadata)', 'ModelMetadata', { name: 'resnet' }, grpc.status.NOT_FOUND, /unknown model 'resnet'/],
      ['unknown version', 'ModelInfer', { ...good, model_version: '99' }, grpc.status.NOT_FOUND, /no version '99'/],
      ['wrong shape', 'ModelInfer', { ...good, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 28, 28] }] }, grpc.status.INVALID_ARGUMENT, /shape \[1,28,28\] does not match/],
      ['raw size mismatch', 'ModelInfer', { ...good, raw_input_contents: [fp32Bytes(pixels.slice(0, 700))] }, grpc.status.INVALID_ARGUMENT, /has 2800 bytes of binary data but shape .* needs 3136/],
      ['wrong datatype', 'ModelInfer', { ...good, inputs: [{ name: 'input', datatype: 'FP64', shape: SHAPE }], raw_input_contents: [Buffer.alloc(784 * 8)] }, grpc.status.INVALID_ARGUMENT, /datatype "FP64"; expected 'FP32'/],
      ['typed count', 'ModelInfer', { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE, contents: { fp32_contents: [1, 2, 3] } }] }, grpc.status.INVALID_ARGUMENT, /has 3 values but shape \[1,1,28,28\] needs 784/],
      ['no values', 'ModelInfer', { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }] }, grpc.status.INVALID_ARGUMENT, /no values/],
      ['unknown plan', 'ModelInfer', { ...good, parameters: { plan: { string_param: 'turbo' } } }, grpc.status.INVALID_ARGUMENT, /unknown plan or placement 'turbo'/],
      ['unknown output', 'ModelInfer', { ...good, outputs: [{ name: 'logits' }] }, grpc.status.INVALID_ARGUMENT, /unknown output "logits"/],
    ];
    for (const [what, method, request, code, message] of cases) {
      await assert.rejects(call(client, method, request), (err: grpc.ServiceError) => {
        assert.equal(err.code, code, `${what}: ${grpc.status[err.code]} ${err.details}`);
        assert.match(err.details, message, what);
        return true;
      });
    }
    const res = await call(client, 'ModelInfer', good);
    assert.equal(param(res.parameters.label), '4');
    for (const p of system.processes()) assert.ok(p.running, `${p.spec.name} still runs`);
  });
});
