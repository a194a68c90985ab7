import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AnswerContext, ContractError, InferJobData, buildAnswer, checkInferJobData } from '@outlet/contracts';
import { loadModelPackage } from '@outlet/model-package';
import { featureFileName, featureFilePath, parseAnswerMessage } from '@outlet/transport';
import { InvalidJobError, decodeInferJob } from '../../apps/trunk-worker/src/infer-job';

const manifest = loadModelPackage(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'models', 'slow-segment')).manifest;
const pixels = Float32Array.from({ length: 784 }, (_, i) => i / 784);
const job = (over: Partial<InferJobData> = {}): InferJobData => ({
  model: 'slow-segment',
  requestId: 'r1',
  input: { name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', key: 'outlet:input:t1' },
  plan: 'parallel',
  planSource: 'request',
  enqueuedAt: 1,
  ...over,
});

/** The model's live thresholds (as the tuner may have moved them from the manifest's). */
const LIVE = [0.97, 0.9, 0];

test('decodeInferJob: a good job decodes to its input, plan and thresholds', () => {
  const d = decodeInferJob('t1', job(), manifest, pixels, LIVE);
  assert.deepEqual(Array.from(d.input), Array.from(pixels));
  assert.deepEqual(d.shape, [1, 1, 28, 28]);
  assert.deepEqual(d.plan, ['branch', 'branch']);
  assert.deepEqual(d.thresholds, LIVE, 'the live thresholds');
  assert.deepEqual(decodeInferJob('t1', job({ plan: 'branch,trunk', threshold: 0.5 }), manifest, pixels, LIVE), { ...d, plan: ['branch', 'trunk'], thresholds: [0.5, 0.5, 0.5] });
  assert.equal(decodeInferJob('t1', job({ plan: 'auto' }), manifest, pixels, LIVE).plan, 'auto');
  assert.deepEqual(decodeInferJob('t1', job({ plan: 'serial', threshold: 0 }), manifest, pixels, LIVE).thresholds, [0, 0, 0]);
});

test('decodeInferJob: every malformed part is refused with the task and the reason named', () => {
  const cases: [string, InferJobData, RegExp, Float32Array | undefined][] = [
    ['no input values', job(), /task t9: no input values at "outlet:input:t1" \(missing, expired or not FP32\)/, undefined],
    ['shape rank', job({ input: { ...job().input, shape: [1, 28, 28] } }), /input shape \[1,28,28\] with 784 values does not fit/, pixels],
    ['batch of 2', job({ input: { ...job().input, shape: [2, 1, 28, 28] } }), /input shape \[2,1,28,28\]/, pixels],
    ['values vs shape', job(), /with 3 values does not fit/, Float32Array.from([1, 2, 3])],
    ['unknown plan', job({ plan: 'turbo' }), /task t9: unknown plan or placement 'turbo'/, pixels],
    ['plan length', job({ plan: 'branch' }), /task t9: plan 'branch' has 1 placement\(s\) but the model has 2 early exit\(s\)/, pixels],
  ];
  for (const [name, data, message, values] of cases) {
    assert.throws(() => decodeInferJob('t9', data, manifest, values, LIVE), (err: Error) => err instanceof InvalidJobError && message.test(err.message), name);
  }
});

test('checkInferJobData: what no model accepts is refused before decoding, the field named', () => {
  assert.deepEqual(checkInferJobData(job()), job());
  const cases: [string, unknown, RegExp][] = [
    ['no input', job({ input: undefined as any }), /^input is required$/],
    ['shape missing', job({ input: { ...job().input, shape: undefined as any } }), /^input\.shape is required$/],
    ['threshold above 1', job({ threshold: 1.5 }), /^threshold must be <= 1, not 1\.5$/],
    ['threshold a string', job({ threshold: '0.5' as any }), /^threshold must be number, not "0\.5"$/],
    ['not an object', 'task', /^body must be object, not "task"$/],
  ];
  for (const [name, data, message] of cases) {
    assert.throws(() => checkInferJobData(data), (err: Error) => err instanceof ContractError && message.test(err.message), name);
  }
});

const context: AnswerContext = { requestId: 'req-1', replyTo: 'gw', trunkEp: 'cpu', plan: ['branch', 'trunk'], planSource: 'auto', cpuUtil: 0.25, queueMs: 1.5, thresholdVersion: 3 };
const model = { name: 'slow-segment', version: '1', exitCount: 3, output: { name: 'probabilities', datatype: 'FP32' } };

test('buildAnswer: one shape whichever worker decided', () => {
  const probabilities = Float32Array.from([0.1, 0.9]);
  const a = buildAnswer('t1', model, context, 'node-a', { exitIndex: 0, probabilities, confidence: 0.9, worker: 'branch', decidedAt: 123.5 });
  assert.deepEqual(a, {
    taskId: 't1',
    model: 'slow-segment',
    modelVersion: '1',
    requestId: 'req-1',
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [Math.fround(0.1), Math.fround(0.9)] }],
    exitIndex: 0,
    exitCount: 3,
    exitConfidence: 0.9,
    exitWorker: 'branch',
    nodeId: 'node-a',
    trunkEp: 'cpu',
    plan: ['branch', 'trunk'],
    planSource: 'auto',
    cpuUtil: 0.25,
    queueMs: 1.5,
    thresholdVersion: 3,
    decidedAt: 123.5,
  });
  assert.ok(Array.isArray(a.outputs[0].data), 'plain numbers: the answer travels as JSON');
  const t = buildAnswer('t1', model, context, 'node-a', { exitIndex: 2, probabilities: [0.5, 0.5], confidence: 0.5, worker: 'trunk', decidedAt: 1 });
  assert.deepEqual(Object.keys(t).sort(), Object.keys(a).sort());
  assert.equal(t.exitWorker, 'trunk');
  assert.equal(JSON.stringify(buildAnswer('t1', model, { ...context, cpuUtil: undefined }, 'n', { exitIndex: 0, probabilities: [1], confidence: 1, worker: 'trunk', decidedAt: 1 })).includes('cpuUtil'), false);
});

test('parseAnswerMessage: answers and failures parse; anything else is not a message', () => {
  const answer = buildAnswer('t1', model, context, 'n', { exitIndex: 0, probabilities: [1, 0], confidence: 1, worker: 'branch', decidedAt: 1 });
  assert.deepEqual(parseAnswerMessage(JSON.stringify({ taskId: 't1', answer })), { taskId: 't1', answer });
  assert.deepEqual(parseAnswerMessage(JSON.stringify({ taskId: 't1', error: 'boom' })), { taskId: 't1', error: 'boom' });
  for (const text of ['', 'not json', '{"taskId": 1, "error": "x"}', '{"error": "x"}', '{"taskId": "t1"}', '{"taskId": "t1", "error": 5}', 'null', '[]', '42']) {
    assert.equal(parseAnswerMessage(text), undefined, text);
  }
});

test('featureFilePath: accepts the names a trunk writes, refuses any that could leave the folder', () => {
  const name = featureFileName('7f0c-uuid_1', 0);
  assert.equal(featureFilePath('/dev/shm/outlet/n1', name), `/dev/shm/outlet/n1/${name}`);
  assert.equal(featureFileName('../../etc/passwd', 1), '______etc_passwd.1.f32', 'task ids are sanitized into one safe name');
  assert.equal(featureFilePath('/d', featureFileName('../../etc/passwd', 1)), '/d/______etc_passwd.1.f32');
  const refused: unknown[] = ['../x.0.f32', '..', '.', '/etc/passwd', 'a/b.0.f32', '/abs.0.f32', 'x.0.f32/', 'x.f32', 'x.0.bin', 'x.a.f32', '', 'x.0.f32\0', 'x y.0.f32', '..\\x.0.f32', undefined, null, 42, { file: 'x.0.f32' }];
  for (const file of refused) assert.throws(() => featureFilePath('/d', file), /is not one a trunk worker writes/, JSON.stringify(file) ?? String(file));
});
