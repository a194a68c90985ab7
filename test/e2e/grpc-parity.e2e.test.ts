import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post } from '../support/http';
import { GRPC_SERVICE_NAME, loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

/** The model the node serves; the gateway's catalog has every package in MODELS_DIR, the others UNAVAILABLE. */
const MODEL = 'branchy-mnist';

/**
 * Every unary call of Triton's GRPCInferenceService (grpc_service.proto), and whether Outlet offers
 * it. The shared-memory, trace and logging calls and loading models are not offered.
 */
const TRITON_UNARY_CALLS: [string, boolean][] = [
  ['ServerLive', true],
  ['ServerReady', true],
  ['ModelReady', true],
  ['ServerMetadata', true],
  ['ModelMetadata', true],
  ['ModelInfer', true],
  ['ModelConfig', true],
  ['ModelStatistics', true],
  ['RepositoryIndex', true],
  ['RepositoryModelLoad', false],
  ['RepositoryModelUnload', false],
  ['SystemSharedMemoryStatus', false],
  ['SystemSharedMemoryRegister', false],
  ['SystemSharedMemoryUnregister', false],
  ['CudaSharedMemoryStatus', false],
  ['CudaSharedMemoryRegister', false],
  ['CudaSharedMemoryUnregister', false],
  ['TraceSetting', false],
  ['LogSettings', false],
];

/** One unary call as a promise; a refusal rejects with the gRPC ServiceError (code, details). */
function call<T = any>(client: grpc.Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    (client as any)[method](request, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/** The status a call answers when sent an empty message (every field absent), by its path alone. */
function statusOfEmptyCall(client: grpc.Client, method: string): Promise<grpc.status> {
  const bytes = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${GRPC_SERVICE_NAME}/${method}`, bytes, bytes, Buffer.alloc(0), { deadline: Date.now() + 30_000 }, (err) => resolve(err ? err.code : grpc.status.OK));
  });
}

/** Reject with the gRPC status `code` and exactly the message HTTP gave. */
async function refusedLikeHttp(what: string, grpcCall: Promise<unknown>, code: grpc.status, httpError: string): Promise<void> {
  await assert.rejects(grpcCall, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `${what}: ${grpc.status[err.code]} ${err.details}`);
    assert.equal(err.details, httpError, `${what}: the HTTP message`);
    return true;
  });
}

/** HTTP's statistics entry as Triton's gRPC message has it: without Outlet's own `outlet` numbers. */
const tritonPart = ({ outlet: _, ...triton }: Record<string, unknown>) => triton;

describe('gRPC at parity with HTTP: ModelConfig, RepositoryIndex, ModelStatistics', () => {
  let system: OutletSystem;
  let client: grpc.Client;
  let nodeModelsDir: string;

  /** An unknown model and an unknown version: 404 over HTTP, NOT_FOUND over gRPC with the same message. */
  async function unknownsRefusedLikeHttp(method: string, path: string): Promise<void> {
    const unknown = await get(`${system.baseUrl}/v2/models/resnet/${path}`);
    assert.equal(unknown.status, 404);
    await refusedLikeHttp('unknown model', call(client, method, { name: 'resnet' }), grpc.status.NOT_FOUND, unknown.body.error);
    const noVersion = await get(`${system.baseUrl}/v2/models/${MODEL}/versions/9/${path}`);
    assert.equal(noVersion.status, 404);
    await refusedLikeHttp('unknown version', call(client, method, { name: MODEL, version: '9' }), grpc.status.NOT_FOUND, noVersion.body.error);
  }

  before(async () => {
    nodeModelsDir = mkdtempSync(join(tmpdir(), 'outlet-node-models-'));
    symlinkSync(join(MODELS_DIR, MODEL), join(nodeModelsDir, MODEL));
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-1', env: { OUTLET_MODELS_DIR: nodeModelsDir } }],
    });
    client = new (loadGrpcInferenceService())(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await system?.stop();
    if (nodeModelsDir) rmSync(nodeModelsDir, { recursive: true, force: true });
  });

  test('RepositoryIndex answers what POST /v2/repository/index does', async () => {
    for (const ready of [false, true]) {
      const http = await post(`${system.baseUrl}/v2/repository/index`, { ready });
      assert.equal(http.status, 200);
      const { models } = await call(client, 'RepositoryIndex', { ready });
      assert.deepEqual(models, http.body, `ready: ${ready}`);
    }
    const { models } = await call(client, 'RepositoryIndex', {});
    assert.deepEqual(
      models.map((m: any) => [m.name, m.state]),
      [
        ['branchy-bench', 'UNAVAILABLE'],
        ['branchy-mnist', 'READY'],
        ['residual-exits', 'UNAVAILABLE'],
      ],
    );
    assert.equal(models[0].reason, 'no live trunk worker serves it');
    await assert.rejects(call(client, 'RepositoryIndex', { repository_name: 'elsewhere' }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /one model repository: leave repository_name empty \(got 'elsewhere'\)/);
      return true;
    });
  });

  test('ModelConfig answers what GET /v2/models/{name}/config does, for every model', async () => {
    const names = (await post(`${system.baseUrl}/v2/repository/index`)).body.map((m: any) => m.name);
    assert.equal(names.length, 3);
    for (const name of names) {
      const http = await get(`${system.baseUrl}/v2/models/${name}/config`);
      assert.equal(http.status, 200);
      for (const version of ['', http.body.version_policy.specific.versions[0].toString()]) {
        const { config } = await call(client, 'ModelConfig', { name, version });
        // The decoder names the member its oneof holds; JSON has no such name.
        const { policy_choice, ...policy } = config.version_policy;
        assert.equal(policy_choice, 'specific');
        assert.deepEqual({ ...config, version_policy: policy }, http.body, `${name} version '${version}'`);
      }
    }
    await unknownsRefusedLikeHttp('ModelConfig', 'config');
  });

  test('ModelStatistics answers what GET /v2/models/.../stats does, after inferences over both protocols', async () => {
    const perProtocol = 3;
    for (let i = 0; i < perProtocol; i++) {
      const pixels = heldOutDigit(i + 1, 0);
      const http = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(pixels, { plan: 'serial' }));
      assert.equal(http.status, 200, JSON.stringify(http.body));
      await call(client, 'ModelInfer', {
        model_name: MODEL,
        parameters: { plan: { string_param: 'serial' } },
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 28, 28], contents: { fp32_contents: pixels } }],
      });
    }
    const n = 2 * perProtocol;
    // Counters are written after the answers: read until both protocols see every request and
    // an HTTP read before and after the gRPC one agree (nothing changed in between).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const before = (await get(`${system.baseUrl}/v2/models/${MODEL}/stats`)).body.model_stats;
      const { model_stats } = await call(client, 'ModelStatistics', { name: MODEL });
      const after = (await get(`${system.baseUrl}/v2/models/${MODEL}/stats`)).body.model_stats;
      // The gateway counts a success when it answers; the trunk its execution just after publishing the answer.
      const settled = after[0].inference_stats.success.count === n && after[0].execution_count === n && JSON.stringify(before) === JSON.stringify(after);
      if (settled) {
        assert.deepEqual(model_stats, after.map(tritonPart));
        break;
      }
      assert.ok(Date.now() < deadline, `statistics did not settle at ${n} requests: HTTP ${JSON.stringify(after)}, gRPC ${JSON.stringify(model_stats)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { model_stats: [stat] } = await call(client, 'ModelStatistics', { name: MODEL, version: '1' });
    assert.equal(stat.name, MODEL);
    assert.equal(stat.version, '1');
    assert.equal(stat.inference_count, n);
    assert.equal(stat.execution_count, n);
    assert.equal(stat.inference_stats.success.count, n);
    assert.equal(stat.inference_stats.queue.count, n);
    assert.equal(stat.inference_stats.fail.count, 0);
    assert.ok(stat.inference_stats.compute_infer.ns > 0);
    assert.deepEqual(stat.batch_stats.map((b: any) => b.batch_size), [1]);

    // No name: every model, as GET /v2/models/stats.
    const all = (await get(`${system.baseUrl}/v2/models/stats`)).body.model_stats;
    assert.deepEqual((await call(client, 'ModelStatistics', {})).model_stats, all.map(tritonPart));
    assert.equal(all.length, 3);

    await unknownsRefusedLikeHttp('ModelStatistics', 'stats');
  });

  test("of Triton's unary calls, only shared memory, trace, logging and model load/unload answer UNIMPLEMENTED", async () => {
    for (const [method, offered] of TRITON_UNARY_CALLS) {
      const code = await statusOfEmptyCall(client, method);
      if (offered) assert.notEqual(code, grpc.status.UNIMPLEMENTED, `${method} is offered`);
      else assert.equal(code, grpc.status.UNIMPLEMENTED, `${method} is not offered: ${grpc.status[code]}`);
    }
  });
});
