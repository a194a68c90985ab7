import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { AnswerMessage, TaskAnswer, answerKey } from '@outlet/contracts';
import { tinyManifest } from '../support/tiny-manifest';
import { RequestError, validateInferRequest } from '../../apps/gateway/src/inference-request';
import { acceptsEventStream, sseEvent } from '../../apps/gateway/src/sse';
import { toOipResponse } from '../../apps/gateway/src/oip-response';
import { streamErrorResponse, toModelStreamInferResponse } from '../../apps/gateway/src/grpc/messages';
import { AnswerSequence, GatewayTransport } from '../../apps/gateway/src/gateway-transport.service';
import { InferenceService } from '../../apps/gateway/src/inference.service';

const request = (parameters: Record<string, unknown>) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: [0, 0.5, 1, 0.25] }], parameters });

const answer = (exitIndex: number, over: Partial<TaskAnswer> = {}): TaskAnswer => ({
  taskId: 't1',
  model: 'tiny',
  modelVersion: '1',
  requestId: 'r1',
  outputs: [{ name: 'probabilities', shape: [1, 3], datatype: 'FP32', data: [0.1, 0.8, 0.1] }],
  exitIndex,
  exitCount: 3,
  exitConfidence: 0.8,
  exitWorker: 'trunk',
  nodeId: 'n1',
  trunkEp: 'cpu',
  plan: ['trunk', 'trunk'],
  planSource: 'request',
  queueMs: 1,
  thresholdVersion: 4,
  decidedAt: 1000,
  ...over,
});

test('SSE framing: event, id, one data line per line of data, a blank line after', () => {
  assert.equal(sseEvent('answer', '{"a":1}', '0'), 'event: answer\nid: 0\ndata: {"a":1}\n\n');
  assert.equal(sseEvent('error', '{"error":"x"}'), 'event: error\ndata: {"error":"x"}\n\n');
  assert.equal(sseEvent('answer', 'one\ntwo\r\nthree\rfour'), 'event: answer\ndata: one\ndata: two\ndata: three\ndata: four\n\n');
  assert.throws(() => sseEvent('ans\nwer', 'x'), /SSE event cannot hold a line break/);
  assert.throws(() => sseEvent('answer', 'x', '1\r2'), /SSE id cannot hold a line break/);
});

test('Accept asks for an event stream only when it names text/event-stream (not at q=0)', () => {
  for (const accept of ['text/event-stream', 'Text/Event-Stream', 'application/json, text/event-stream;q=0.5', 'text/event-stream; charset=utf-8']) {
    assert.equal(acceptsEventStream(accept), true, accept);
  }
  for (const accept of [undefined, '', '*/*', 'text/*', 'application/json', 'text/event-stream;q=0', 'text/event-streams']) {
    assert.equal(acceptsEventStream(accept), false, String(accept));
  }
});

test('parameters.progressive: true is kept, false is the default, anything else is a 400 naming it', () => {
  assert.equal(validateInferRequest(request({ progressive: true }), tinyManifest).progressive, true);
  assert.equal(validateInferRequest(request({ progressive: false }), tinyManifest).progressive, undefined);
  assert.equal(validateInferRequest(request({}), tinyManifest).progressive, undefined);
  for (const bad of ['true', 1, null, {}]) {
    assert.throws(
      () => validateInferRequest(request({ progressive: bad }), tinyManifest),
      (e: Error) => e instanceof RequestError && e.status === 400 && /^parameters\.progressive must be true or false, not /.test(e.message),
      JSON.stringify(bad),
    );
  }
});

test('every response names its threshold version; the stream marks the last response as Triton does', () => {
  const oip = toOipResponse(answer(0), 5);
  assert.equal(oip.parameters.threshold_version, 4);
  const early = toModelStreamInferResponse({ ...oip, parameters: { ...oip.parameters, final: false } }, false, false);
  assert.equal(early.error_message, '');
  assert.deepEqual(early.infer_response.parameters?.threshold_version, { int64_param: 4 });
  assert.deepEqual(early.infer_response.parameters?.final, { bool_param: false });
  assert.deepEqual(early.infer_response.parameters?.triton_final_response, { bool_param: false });
  assert.deepEqual(toModelStreamInferResponse(oip, true, true).infer_response.parameters?.triton_final_response, { bool_param: true });
  assert.deepEqual(streamErrorResponse({ model_name: 'tiny', id: 'r9' }, 'no such thing'), { error_message: 'no such thing', infer_response: { model_name: 'tiny', model_version: '', id: 'r9' } });
});

/** A GatewayTransport on a fake Redis: `hear` publishes on its answer channel, `stored` holds the answer keys. */
async function fakeTransport() {
  const subscriber = Object.assign(new EventEmitter(), { subscribe: async () => 1, quit: async () => 'OK' });
  const stored = new Map<string, string>();
  const redis = { duplicate: () => subscriber, mget: async (keys: string[]) => keys.map((k) => stored.get(k) ?? null) };
  const transport = new GatewayTransport(undefined as any, redis as any, undefined as any);
  await transport.onModuleInit();
  const hear = (message: AnswerMessage) => subscriber.emit('message', 'channel', JSON.stringify(message));
  /** The subscriber reconnects: the transport reads back the answer keys of the tasks it waits for. */
  const reconnect = () => subscriber.emit('ready');
  return { transport, hear, reconnect, stored };
}

async function collect(sequence: AsyncIterable<AnswerMessage>): Promise<AnswerMessage[]> {
  const all: AnswerMessage[] = [];
  for await (const m of sequence) all.push(m);
  return all;
}

test('a progressive wait gives the early answer, then the continuation, and ignores the early answer read back after a reconnection', async () => {
  const { transport, hear, reconnect, stored } = await fakeTransport();
  const sequence = transport.expectProgressive('t1', 10_000);
  const heard = collect(sequence);
  const early: AnswerMessage = { taskId: 't1', answer: answer(0) };
  hear(early);
  stored.set(answerKey('t1'), JSON.stringify(early));
  reconnect();
  await new Promise((r) => setImmediate(r));
  hear({ taskId: 't1', answer: answer(2), continuation: true });
  const messages = await heard;
  assert.deepEqual(messages.map((m) => [m.answer?.exitIndex, m.continuation]), [[0, undefined], [2, true]]);
  assert.equal(sequence.complete, true);
});

test('a progressive wait ends at a first answer from the final exit, at a failure, at a lone continuation, or incomplete at its timeout', async () => {
  const { transport, hear } = await fakeTransport();
  const final = transport.expectProgressive('t1', 10_000);
  hear({ taskId: 't1', answer: answer(2) });
  assert.equal((await collect(final)).length, 1);
  assert.equal(final.complete, true);

  const failed = transport.expectProgressive('t2', 10_000);
  hear({ taskId: 't2', error: 'boom' });
  assert.deepEqual((await collect(failed)).map((m) => m.error), ['boom']);

  // The early answer lost while the subscriber was away: the final one is the last all the same.
  const lone = transport.expectProgressive('t3', 10_000);
  hear({ taskId: 't3', answer: answer(2, { taskId: 't3' }), continuation: true });
  assert.equal((await collect(lone)).length, 1);
  assert.equal(lone.complete, true);

  const late = transport.expectProgressive('t4', 20);
  hear({ taskId: 't4', answer: answer(0, { taskId: 't4' }) });
  assert.deepEqual((await collect(late)).map((m) => m.answer?.exitIndex), [0]);
  assert.equal(late.complete, false);
});

test('a plain wait resolves at the first answer and never at a continuation', async () => {
  const { transport, hear } = await fakeTransport();
  const outcome = transport.expect('t1', 50);
  hear({ taskId: 't1', answer: answer(2), continuation: true });
  assert.equal(await outcome, undefined, 'a continuation alone: still waiting until the timeout');
  const next = transport.expect('t2', 10_000);
  hear({ taskId: 't2', answer: answer(0, { taskId: 't2' }) });
  assert.equal((await next)?.answer?.exitIndex, 0);
});

/** An InferenceService on a fake transport whose progressive waits are `sequence`, fed by the test. */
function fakeService(sequence: AnswerSequence) {
  const counted: string[] = [];
  const transport = {
    gatewayId: 'gw-1',
    expectProgressive: () => sequence,
    enqueue: async () => ({ queued: true }),
    forget: () => undefined,
  };
  const catalog = { get: () => ({ manifest: { input: { name: 'input' }, labels: undefined } }) };
  const settings = { defaultPlan: 'serial', inferTimeoutMs: 30_000, maxQueued: 0, jobRetention: 10, defaultPriority: 1 };
  const service = new InferenceService(catalog as any, transport as any, settings as any);
  Object.assign(service, { stats: { success: () => counted.push('success'), failure: () => counted.push('failure') } });
  const valid = validateInferRequest(request({ progressive: true }), tinyManifest);
  return { responses: service.inferProgressive('tiny', valid, 0), counted, service, valid };
}

test('inferProgressive: the early response (final false), then the final one (final true); counted once', async () => {
  const sequence = new AnswerSequence();
  const { responses, counted } = fakeService(sequence);
  sequence.push({ taskId: 't1', answer: answer(0) });
  sequence.push({ taskId: 't1', answer: answer(2), continuation: true });
  sequence.end(true);
  const all = [];
  for await (const r of responses) all.push(r.parameters);
  assert.deepEqual(all.map((p) => [p.exit_index, p.final]), [[0, false], [2, true]]);
  assert.deepEqual(counted, ['success']);
});

test('inferProgressive: no final answer in time is a 504 after the early response; no answer at all, the 504 of infer; a failure, its status', async () => {
  const late = new AnswerSequence();
  const a = fakeService(late);
  late.push({ taskId: 't1', answer: answer(0) });
  late.end(false);
  assert.equal((await a.responses.next()).value?.parameters.exit_index, 0);
  await assert.rejects(a.responses.next(), (e: Error) => e instanceof RequestError && e.status === 504 && /answered at an early exit, but its final exit's answer did not come within 30000 ms \(OUTLET_INFER_TIMEOUT_MS\)/.test(e.message));

  const silent = new AnswerSequence();
  const b = fakeService(silent);
  silent.end(false);
  await assert.rejects(b.responses.next(), (e: Error) => e instanceof RequestError && e.status === 504 && /did not finish within 30000 ms/.test(e.message));
  assert.deepEqual(b.counted, ['failure']);

  const failed = new AnswerSequence();
  const c = fakeService(failed);
  failed.push({ taskId: 't1', error: 'not finite', inputFault: true });
  failed.end(true);
  await assert.rejects(c.responses.next(), (e: Error) => e instanceof RequestError && e.status === 422);
});

test('a progressive request where one response is all there can be (plain infer, a job) is a 400 naming the streams', async () => {
  const { service, valid } = fakeService(new AnswerSequence());
  for (const attempt of [service.infer('tiny', valid, 0), service.submit('tiny', valid, 0)]) {
    await assert.rejects(attempt, (e: Error) => e instanceof RequestError && e.status === 400 && /Accept: text\/event-stream, or gRPC ModelStreamInfer/.test(e.message));
  }
});
