import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { nowMs } from '@outlet/contracts';
import { OutletSystem } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { post } from '../support/http';
import { ReadEvent, readEventStream } from '../support/event-stream';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

/**
 * Progressive answers on the slow-segment fixture (3 segments of ~200 ms on one CPU thread; exit 0
 * always confident, exit 1 never, exit 2 final): plan `serial` answers at exit 0 after one segment,
 * then the trunk runs the network to its end (three more segments) for the final exit's answer;
 * plan `full` answers at the final exit at once.
 */
const MODEL = 'slow-segment';
const KEY = 'progressive-e2e-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };
const SSE = { ...AUTH, accept: 'text/event-stream' };
const SHAPE = [1, 1, 28, 28];
/** A safety limit only: every wait below ends on an event. */
const STREAM_DEADLINE_MS = 120_000;

const param = (p: any) => p?.[p.parameter_choice];
const params = (response: any) => Object.fromEntries(Object.entries<any>(response.parameters).map(([k, p]) => [k, param(p)]));

/** ModelStreamInfer as a queue: `next()` is the next message on the stream; `status` its final status. */
class InferStream {
  private readonly arrived: { message: any; at: number }[] = [];
  private ended?: grpc.StatusObject;
  private waiter?: () => void;
  readonly status: Promise<grpc.StatusObject>;
  readonly call: grpc.ClientDuplexStream<any, any>;

  constructor(client: grpc.Client, metadata: grpc.Metadata) {
    this.call = (client as any).ModelStreamInfer(metadata, { deadline: Date.now() + STREAM_DEADLINE_MS });
    this.call.on('data', (message: any) => {
      this.arrived.push({ message, at: nowMs() });
      this.waiter?.();
    });
    // An error status comes as 'error' too; 'status' always comes.
    this.call.on('error', () => undefined);
    this.status = new Promise((resolve) =>
      this.call.on('status', (status: grpc.StatusObject) => {
        this.ended = status;
        this.waiter?.();
        resolve(status);
      }),
    );
  }

  async next(): Promise<{ message: any; at: number }> {
    while (this.arrived.length === 0) {
      if (this.ended) throw new Error(`the stream ended (${grpc.status[this.ended.code]}: ${this.ended.details}) with no response left`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.arrived.shift()!;
  }

  get pending(): number {
    return this.arrived.length;
  }
}

describe('progressive answers: early, then the final exit (slow-segment fixture, real processes)', () => {
  let system: OutletSystem;
  let client: grpc.Client;
  let infer: string;
  const pixels = heldOutDigit(7, 0);
  const keyed = () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${KEY}`);
    return metadata;
  };
  const streamRequest = (id: string, parameters: Record<string, unknown>) => ({
    model_name: MODEL,
    id,
    parameters,
    inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }],
    raw_input_contents: [Buffer.from(Float32Array.from(pixels).buffer)],
  });

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      // The fixture's exits disagree (it is untrained): tuned online, its early exits would be turned off.
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_ADAPT: 'off' },
      gatewayEnv: { OUTLET_API_KEYS: KEY },
      nodes: [{ nodeId: 'edge-progressive' }],
    });
    infer = `${system.baseUrl}/v2/models/${MODEL}/infer`;
    const Service = loadGrpcInferenceService();
    client = new Service(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await system?.stop();
  });

  /** POST a progressive request asking for SSE; the response's events, read to the end of the stream. */
  async function streamed(url: string, parameters: Record<string, unknown>, id: string) {
    const sentAt = nowMs();
    const res = await fetch(url, { method: 'POST', headers: { ...SSE, 'content-type': 'application/json' }, body: JSON.stringify(inferBody(pixels, { ...parameters, progressive: true }, id)) });
    if (res.status !== 200) assert.fail(`${res.status}: ${await res.text()}`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    return { sentAt, events: await readEventStream(res.body!) };
  }

  const body = (e: ReadEvent) => JSON.parse(e.data);

  test('HTTP: answered early, two events: exit 0 (final false), then exit 2 (final true) for the same task; the first reaches the client before the final exit decides', async () => {
    const { sentAt, events } = await streamed(infer, { plan: 'serial' }, 'sse-early');
    assert.deepEqual(events.map((e) => [e.event, e.id]), [['answer', '0'], ['answer', '2']], JSON.stringify(events));
    const [early, final] = events.map(body);
    assert.equal(early.parameters.exit_index, 0);
    assert.equal(early.parameters.final, false);
    assert.equal(final.parameters.exit_index, 2);
    assert.equal(final.parameters.final, true);
    assert.equal(final.parameters.exit_worker, 'trunk');
    assert.equal(final.parameters.task_id, early.parameters.task_id, 'one task');
    for (const r of [early, final]) {
      assert.equal(r.id, 'sse-early');
      assert.equal(r.model_name, MODEL);
      assert.equal(r.outputs[0].data.length, 10);
      assert.ok(Number.isInteger(r.parameters.threshold_version) && r.parameters.threshold_version >= 1, JSON.stringify(r.parameters));
    }
    // The final decision came at least total_ms - delivery_ms after the request was sent (the
    // gateway got it after sentAt): the early event was in the client's hands before that.
    const finalDecidedNoEarlierThan = sentAt + final.parameters.total_ms - final.parameters.delivery_ms;
    assert.ok(events[0].at < finalDecidedNoEarlierThan, `early event at ${events[0].at.toFixed(1)}, final decided at or after ${finalDecidedNoEarlierThan.toFixed(1)}`);
  });

  test('HTTP: answered at the final exit (plan full, the versions route), one event with final true', async () => {
    const { events } = await streamed(`${system.baseUrl}/v2/models/${MODEL}/versions/1/infer`, { plan: 'full' }, 'sse-full');
    assert.deepEqual(events.map((e) => [e.event, e.id]), [['answer', '2']], JSON.stringify(events));
    const [only] = events.map(body);
    assert.equal(only.parameters.exit_index, 2);
    assert.equal(only.parameters.final, true);
    assert.equal(only.id, 'sse-full');
  });

  test('HTTP: refusals before the stream are {"error"} with their status; a plain request stays plain JSON', async () => {
    const bad = await post(infer, inferBody(pixels, { progressive: 'yes' }), SSE);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^parameters\.progressive must be true or false, not "yes"/);
    for (const accept of [undefined, 'application/json', '*/*']) {
      const res = await post(infer, inferBody(pixels, { progressive: true }), accept ? { ...AUTH, accept } : AUTH);
      assert.equal(res.status, 400, String(accept));
      assert.match(res.body.error, /parameters\.progressive: true .*needs a stream: HTTP with the header Accept: text\/event-stream, or gRPC ModelStreamInfer/, String(accept));
    }
    const binary = await post(infer, inferBody(pixels, { progressive: true, binary_data_output: true }), SSE);
    assert.equal(binary.status, 400);
    assert.match(binary.body.error, /progressive answers are JSON events/);
    const unknown = await post(`${system.baseUrl}/v2/models/resnet/infer`, inferBody(pixels, { progressive: true }), SSE);
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /application\/json/);
    const job = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...inferBody(pixels, { progressive: true }) }, AUTH);
    assert.equal(job.status, 400);
    assert.match(job.body.error, /parameters\.progressive/);
    const unkeyed = await post(infer, inferBody(pixels, { progressive: true }), { accept: 'text/event-stream' });
    assert.equal(unkeyed.status, 401);
    // Not progressive: one JSON answer whatever the Accept header; it names its threshold version too.
    const plain = await post(infer, inferBody(pixels, { plan: 'serial' }), SSE);
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(plain.body.parameters.exit_index, 0);
    assert.equal(plain.body.parameters.final, undefined);
    assert.ok(plain.body.parameters.threshold_version >= 1);
  });

  test('gRPC ModelStreamInfer: progressive early (two responses), progressive final (one), plain (one); a bad request errors and the stream goes on', async () => {
    const stream = new InferStream(client, keyed());
    const sentAt = nowMs();
    stream.call.write(streamRequest('g-early', { plan: { string_param: 'serial' }, progressive: { bool_param: true } }));
    const early = await stream.next();
    const final = await stream.next();
    for (const { message } of [early, final]) {
      assert.equal(message.error_message, '');
      assert.equal(message.infer_response.id, 'g-early');
      assert.equal(message.infer_response.raw_output_contents.length, 1, 'raw in, raw out');
    }
    const [e, f] = [params(early.message.infer_response), params(final.message.infer_response)];
    assert.deepEqual([e.exit_index, e.final, e.triton_final_response], [0, false, false]);
    assert.deepEqual([f.exit_index, f.final, f.triton_final_response], [2, true, true]);
    assert.equal(f.task_id, e.task_id);
    assert.ok(e.threshold_version >= 1 && f.threshold_version >= 1);
    assert.ok(early.at < sentAt + f.total_ms - f.delivery_ms, 'the early response came before the final exit decided');

    stream.call.write(streamRequest('g-full', { plan: { string_param: 'full' }, progressive: { bool_param: true } }));
    const full = params((await stream.next()).message.infer_response);
    assert.deepEqual([full.exit_index, full.final, full.triton_final_response], [2, true, true]);

    stream.call.write(streamRequest('g-plain', { plan: { string_param: 'serial' } }));
    const plain = params((await stream.next()).message.infer_response);
    assert.deepEqual([plain.exit_index, plain.final, plain.triton_final_response], [0, undefined, true]);

    // As tritonclient's enable_empty_final_response asks: the answers, then an empty response marked final.
    stream.call.write(streamRequest('g-empty', { plan: { string_param: 'serial' }, progressive: { bool_param: true }, triton_enable_empty_final_response: { bool_param: true } }));
    const withEmpty = [await stream.next(), await stream.next(), await stream.next()].map((r) => r.message.infer_response);
    assert.deepEqual(withEmpty.map((r) => r.id), ['g-empty', 'g-empty', 'g-empty']);
    assert.deepEqual(withEmpty.map((r) => params(r).triton_final_response), [false, false, true]);
    assert.deepEqual(withEmpty.map((r) => params(r).exit_index), [0, 2, undefined]);
    assert.equal(withEmpty[2].outputs.length, 0, 'the closing response is empty');

    stream.call.write(streamRequest('g-bad', { progressive: { string_param: 'yes' } }));
    const bad = (await stream.next()).message;
    assert.match(bad.error_message, /^parameters\.progressive must be true or false, not "yes"/);
    assert.equal(bad.infer_response.id, 'g-bad', 'the failed request is named');
    stream.call.write({ ...streamRequest('g-unknown', {}), model_name: 'resnet' });
    assert.match((await stream.next()).message.error_message, /unknown model 'resnet'/);

    // Still open: one more answer, then the client closes its side and the call ends OK.
    stream.call.write(streamRequest('g-after', { plan: { string_param: 'full' } }));
    assert.equal((await stream.next()).message.infer_response.id, 'g-after');
    stream.call.end();
    const status = await stream.status;
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.equal(stream.pending, 0, 'no responses beyond those read');
  });

  test('gRPC: ModelStreamInfer needs the API key (UNAUTHENTICATED); unary ModelInfer refuses progressive (INVALID_ARGUMENT)', async () => {
    const unkeyed = new InferStream(client, new grpc.Metadata());
    const status = await unkeyed.status;
    assert.equal(status.code, grpc.status.UNAUTHENTICATED, status.details);
    assert.match(status.details, /missing API key/);

    const refused = await new Promise<grpc.ServiceError | null>((resolve) =>
      (client as any).ModelInfer(streamRequest('u', { progressive: { bool_param: true } }), keyed(), { deadline: Date.now() + STREAM_DEADLINE_MS }, (err: grpc.ServiceError | null) => resolve(err)),
    );
    assert.equal(refused?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(refused!.details, /gRPC ModelStreamInfer/);
  });
});
