import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ConfigError, readGatewaySettings } from '@outlet/config';
import { MAX_PRIORITY, MAX_TIMEOUT_US } from '@outlet/contracts';
import { tinyManifest } from '../support/tiny-manifest';
import { RequestError, validateInferRequest } from '../../apps/gateway/src/inference-request';
import { InferParameter, grpcCode, toValidInferRequest } from '../../apps/gateway/src/grpc/messages';

/** Admission settings and Triton's schedule-policy parameters (`timeout`, `priority`), parsed. */

const request = (parameters: unknown) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: [0, 0.5, 1, 0.25] }], parameters });
const parse = (parameters: unknown) => validateInferRequest(request(parameters), tinyManifest);

test('timeout is microseconds; priority is 1 (highest) up to BullMQ\'s lowest; 0 or absent means none / the default', () => {
  const v = parse({ timeout: 250_000, priority: 3 });
  assert.equal(v.timeoutUs, 250_000);
  assert.equal(v.priority, 3);
  const zero = parse({ timeout: 0, priority: 0 });
  assert.equal(zero.timeoutUs, undefined, 'Triton: timeout 0 is no timeout');
  assert.equal(zero.priority, undefined, 'Triton: priority 0 is the default level');
  assert.equal(parse(undefined).timeoutUs, undefined);
  assert.equal(parse({ timeout: MAX_TIMEOUT_US, priority: MAX_PRIORITY }).priority, 2_097_152);
  assert.equal(MAX_TIMEOUT_US, 24 * 3600 * 1e6, 'as long as an input is kept beside its job');
});

test('a bad timeout or priority is a 400 that names it', () => {
  const cases: [unknown, RegExp][] = [
    [{ timeout: -1 }, /parameters\.timeout must be an integer number of microseconds from 0 \(none\) to 86400000000 .*, not -1$/],
    [{ timeout: 1.5 }, /parameters\.timeout .* not 1\.5$/],
    [{ timeout: '1000' }, /parameters\.timeout .* not "1000"$/],
    [{ timeout: 1e300 }, /parameters\.timeout .* not 1e\+300$/],
    [{ timeout: MAX_TIMEOUT_US + 1 }, /parameters\.timeout .* not 86400000001$/],
    [{ timeout: null }, /parameters\.timeout .* not null$/],
    [{ priority: -2 }, /parameters\.priority must be an integer from 1 \(highest\) to 2097152 \(lowest\), or 0 for the default, not -2$/],
    [{ priority: 2_097_153 }, /parameters\.priority .* not 2097153$/],
    [{ priority: 0.5 }, /parameters\.priority .* not 0\.5$/],
    [{ priority: true }, /parameters\.priority .* not true$/],
    [{ priority: 'x'.repeat(1000) }, /parameters\.priority .* not "x{80}…"$/],
  ];
  for (const [parameters, message] of cases) {
    assert.throws(() => parse(parameters), (e: Error) => e instanceof RequestError && e.status === 400 && message.test(e.message), JSON.stringify(parameters)?.slice(0, 60));
  }
});

test('over gRPC, timeout and priority are request parameters of any integer kind', () => {
  const message = (parameters: Record<string, InferParameter>) => ({
    model_name: tinyManifest.name,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], contents: { fp32_contents: [0, 0.5, 1, 0.25] } }],
    parameters,
  });
  const { request: r } = toValidInferRequest(message({ timeout: { uint64_param: 5000 }, priority: { int64_param: 2 } }), tinyManifest);
  assert.equal(r.timeoutUs, 5000);
  assert.equal(r.priority, 2);
  assert.throws(() => toValidInferRequest(message({ timeout: { double_param: 0.5 } }), tinyManifest), /parameters\.timeout .* not 0\.5/);
  assert.throws(() => toValidInferRequest(message({ priority: { string_param: 'high' } }), tinyManifest), /parameters\.priority .* not "high"/);
});

test('a full queue is 429 over HTTP and RESOURCE_EXHAUSTED over gRPC', () => {
  assert.equal(grpcCode(429), status.RESOURCE_EXHAUSTED);
});

test('OUTLET_MAX_QUEUED (0: unbounded) and OUTLET_DEFAULT_PRIORITY are read and checked', () => {
  const defaults = readGatewaySettings({});
  assert.equal(defaults.maxQueued, 1000);
  assert.equal(defaults.defaultPriority, 100);
  assert.equal(readGatewaySettings({ OUTLET_MAX_QUEUED: '0' }).maxQueued, 0);
  assert.equal(readGatewaySettings({ OUTLET_DEFAULT_PRIORITY: '1' }).defaultPriority, 1);
  for (const [env, message] of [
    [{ OUTLET_MAX_QUEUED: '-1' }, /OUTLET_MAX_QUEUED='-1' must be an integer from 0/],
    [{ OUTLET_MAX_QUEUED: 'many' }, /OUTLET_MAX_QUEUED='many'/],
    [{ OUTLET_DEFAULT_PRIORITY: '0' }, /OUTLET_DEFAULT_PRIORITY='0' must be an integer from 1 to 2097152/],
  ] as [Record<string, string>, RegExp][]) {
    assert.throws(() => readGatewaySettings(env), (e: Error) => e instanceof ConfigError && message.test(e.message));
  }
});
