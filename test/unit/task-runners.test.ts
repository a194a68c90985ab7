import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { BranchJobData, InferJobData, TaskAnswer, TrunkTelemetry, buildAnswer, nowMs } from '@outlet/contracts';
import { SegmentRequest, SegmentResult } from '@outlet/inference';
import { ModelPackage, loadModelPackage } from '@outlet/model-package';
import { TrunkTaskRunner } from '../../apps/trunk-worker/src/trunk-task.runner';
import { ExitHeadRunner } from '../../apps/branch-worker/src/exit-head.runner';
import { DeadlineExpiredError } from '../../apps/trunk-worker/src/infer-job';
import { PendingAudit } from '../../apps/trunk-worker/src/audit-runner.service';
import { HeadTimes } from '../../apps/branch-worker/src/head-times';

/**
 * The two runners with fake collaborators (no Redis, no onnxruntime): each fake implements just
 * what the runner calls. The model is the slow-segment fixture's manifest: 3 segments, an exit
 * after each (thresholds 0.9, 0.9, 0), feature [N,16,28,28].
 */
const pkg = loadModelPackage(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'models', 'slow-segment'));
const packages = new Map<string, ModelPackage>([[pkg.manifest.name, pkg]]);
const m = pkg.manifest;
const FEATURE = 16 * 28 * 28;
const SURE = Float32Array.from([0.95, 0.05]);
const UNSURE = Float32Array.from([0.4, 0.6]);

const answerOf = (taskId: string, exitIndex: number, worker: 'branch' | 'trunk', decidedAt: number): TaskAnswer =>
  buildAnswer(taskId, { name: m.name, version: m.version, exitCount: 3, output: m.output }, { requestId: 'r', trunkEp: 'cpu', plan: ['branch', 'branch'], planSource: 'request', queueMs: 0, thresholdVersion: 1 }, 'n1', {
    exitIndex,
    probabilities: SURE,
    confidence: 0.95,
    worker,
    decidedAt,
  });

/** A fake trunk transport recording what the runner asks of it. */
class FakeTrunkTransport {
  listener?: (answer: TaskAnswer) => void;
  listening = false;
  handOffs: { exitIndex: number; feature: unknown }[] = [];
  claims: { answer: TaskAnswer; replyTo?: string }[] = [];
  released: number[] = [];
  telemetry?: TrunkTelemetry;
  /** What the next claim returns: won, or lost to this stored answer. */
  stored?: TaskAnswer;
  listen(_taskId: string, onAnswer: (answer: TaskAnswer) => void) {
    this.listener = onAnswer;
    this.listening = true;
  }
  stopListening() {
    this.listening = false;
  }
  featureFile(taskId: string, exitIndex: number) {
    return { name: `${taskId}.${exitIndex}.f32`, path: `/fake/${taskId}.${exitIndex}.f32` };
  }
  handOff(data: { exitIndex: number }, feature: unknown) {
    this.handOffs.push({ exitIndex: data.exitIndex, feature });
  }
  async claim(answer: TaskAnswer, replyTo?: string) {
    this.claims.push({ answer, replyTo });
    return this.stored ? { answer: this.stored, won: false } : { answer, won: true };
  }
  recordTelemetry(_job: unknown, telemetry: TrunkTelemetry) {
    this.telemetry = telemetry;
  }
  releaseFeatures(_taskId: string, exits: number[]) {
    this.released = exits;
  }
  async readInput(key: string) {
    return key === 'outlet:input:task-1' ? new Float32Array(784) : undefined;
  }
}

/** A fake model thread: each segment "runs" by calling `during`, fused calls return `probabilities[segment]`. */
class FakeEngine {
  readonly ep = 'cpu';
  calls: SegmentRequest[] = [];
  ended: string[] = [];
  constructor(
    private readonly probabilities: Float32Array[] = [UNSURE, UNSURE, UNSURE],
    private readonly during: (segment: number) => void = () => undefined,
  ) {}
  async runSegment(r: SegmentRequest): Promise<SegmentResult> {
    this.calls.push(r);
    await new Promise((res) => setImmediate(res));
    this.during(r.segment);
    return { probabilities: r.withExit ? this.probabilities[r.segment] : undefined, decidedAt: nowMs(), ranMs: 1 };
  }
  endTask(taskId: string) {
    this.ended.push(taskId);
  }
}

const inferJob = (over: Partial<InferJobData> = {}) => ({
  id: 'task-1',
  data: {
    model: m.name,
    requestId: 'req-1',
    input: { name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', key: 'outlet:input:task-1' },
    plan: 'parallel',
    planSource: 'request',
    enqueuedAt: nowMs(),
    replyTo: 'gw-1',
    ...over,
  } as InferJobData,
});

/** The live thresholds a fake store hands the runner: the manifest's (version 1), or version 4 with exit 0 raised to 0.99. */
const OFFLINE = { version: 1, thresholds: [0.9, 0.9, 0], auditRate: 0, updatedAt: 0, windowSince: 0, reason: 'offline' };
const RAISED = { ...OFFLINE, version: 4, thresholds: [0.99, 0.9, 0], reason: 'test' };

class FakeAudits {
  submitted: PendingAudit[] = [];
  submit(audit: PendingAudit) {
    this.submitted.push(audit);
  }
}

const trunkRunner = (engine: FakeEngine, transport: FakeTrunkTransport, options: { auditRate?: number; audits?: FakeAudits; live?: typeof OFFLINE } = {}) =>
  new TrunkTaskRunner(
    { nodeId: 'n1', adapt: true } as any,
    packages,
    engine as any,
    transport as any,
    { choose: () => ({ plan: ['trunk', 'trunk'], cpuUtil: 0.3 }), observeSegment: () => undefined } as any,
    { current: () => ({ ...(options.live ?? OFFLINE), auditRate: options.auditRate ?? 0 }) } as any,
    (options.audits ?? new FakeAudits()) as any,
  );

test('TrunkTaskRunner: tasks run with the live thresholds and say their version; audits are sampled at the live rate, after the answer', async () => {
  // Exit 0 is 0.95 confident: enough for the manifest's 0.9, not for the live 0.99.
  const audits = new FakeAudits();
  const answer = await trunkRunner(new FakeEngine([SURE, SURE, UNSURE]), new FakeTrunkTransport(), { audits, live: RAISED }).run(inferJob({ plan: 'serial' }) as any);
  assert.equal(answer.exitIndex, 1, 'exit 0 is below the live threshold');
  assert.equal(answer.thresholdVersion, 4);
  assert.deepEqual(audits.submitted, [], 'audit rate 0');

  const sampled = new FakeAudits();
  const audited = await trunkRunner(new FakeEngine([SURE, SURE, UNSURE]), new FakeTrunkTransport(), { audits: sampled, auditRate: 1, live: RAISED }).run(inferJob({ plan: 'serial' }) as any);
  assert.equal(sampled.submitted.length, 1, 'audit rate 1');
  assert.equal(sampled.submitted[0].answer, audited, 'the audit knows the answer given');
  assert.deepEqual(Array.from(sampled.submitted[0].input).length, 784);
  assert.equal(sampled.submitted[0].progressive, undefined);

  // Progressive: an early answer is always continued (its gateway waits for the final one); a final one is not.
  const progressive = new FakeAudits();
  await trunkRunner(new FakeEngine([SURE, SURE, UNSURE]), new FakeTrunkTransport(), { audits: progressive, live: RAISED }).run(inferJob({ plan: 'serial', progressive: true }) as any);
  assert.equal(progressive.submitted.length, 1);
  assert.equal(progressive.submitted[0].progressive?.replyTo, 'gw-1');
  assert.equal(progressive.submitted[0].progressive?.context.thresholdVersion, 4);
  const reachedFinal = new FakeAudits();
  const final = await trunkRunner(new FakeEngine(), new FakeTrunkTransport(), { audits: reachedFinal }).run(inferJob({ plan: 'full', progressive: true }) as any);
  assert.equal(final.exitIndex, 2);
  assert.deepEqual(reachedFinal.submitted, [], 'nothing follows a final answer');
});

test('TrunkTaskRunner: a branch answer heard during a segment completes the job with that answer; no further segment, no claim', async () => {
  const transport = new FakeTrunkTransport();
  let branchAnswer: TaskAnswer | undefined;
  const engine = new FakeEngine(undefined, (segment) => {
    // The branch head (exit 0) answers while segment 1 runs; the trunk hears it on its channel.
    if (segment === 1) transport.listener!((branchAnswer = answerOf('task-1', 0, 'branch', nowMs())));
  });
  const answer = await trunkRunner(engine, transport).run(inferJob() as any);
  assert.equal(answer, branchAnswer, 'the heard answer, as published');
  assert.deepEqual(engine.calls.map((c) => c.segment), [0, 1]);
  assert.deepEqual(transport.claims, [], 'the branch already claimed the task');
  assert.deepEqual(transport.handOffs.map((h) => h.exitIndex), [0], 'no subjob once the task is answered');
  assert.deepEqual(transport.handOffs[0].feature, { file: 'task-1.0.f32' });
  assert.deepEqual(transport.released, [0, 1], 'both features written are released');
  assert.deepEqual(engine.ended, ['task-1']);
  assert.equal(transport.listening, false);
  assert.deepEqual(transport.telemetry?.segmentsRan, [0, 1]);
  assert.equal(transport.telemetry?.decidedAt, branchAnswer!.decidedAt);
  assert.equal(transport.telemetry?.handOffs, 1, 'one subjob queued: the feature written after the branch answered got none');
  assert.equal(typeof transport.telemetry?.abortReactionMs, 'number');
  assert.equal(typeof transport.telemetry?.eventLoopDelayMaxMs, 'number');
  assert.deepEqual(engine.calls[0].input?.dims, [1, 1, 28, 28], 'the first segment gets the task\'s input');
  assert.equal(engine.calls[1].input, undefined, 'later segments continue from the thread\'s feature');
});

test('TrunkTaskRunner: the trunk\'s own decision is claimed; when the claim loses, the job completes with the stored answer', async () => {
  for (const [plan, exit] of [['serial', 0], ['full', 2]] as const) {
    const transport = new FakeTrunkTransport();
    const engine = new FakeEngine([SURE, UNSURE, UNSURE]);
    const won = await trunkRunner(engine, transport).run(inferJob({ plan }) as any);
    assert.equal(won.exitWorker, 'trunk');
    assert.equal(won.exitIndex, exit, plan);
    assert.equal(transport.claims.length, 1);
    assert.equal(transport.claims[0].answer, won);
    assert.equal(transport.claims[0].replyTo, 'gw-1', 'published to the waiting gateway');
    assert.deepEqual(engine.calls.map((c) => c.withExit), plan === 'serial' ? [true] : [false, false, true], `${plan}: fused calls`);
  }
  const transport = new FakeTrunkTransport();
  transport.stored = answerOf('task-1', 0, 'branch', 5);
  const engine = new FakeEngine();
  const answer = await trunkRunner(engine, transport).run(inferJob({ plan: 'full' }) as any);
  assert.equal(answer, transport.stored, 'a branch that claimed first wins everywhere');
  assert.equal(transport.claims.length, 1);
  assert.equal(transport.claims[0].answer.exitIndex, 2);
  assert.equal(transport.telemetry?.decidedAt, 5, 'telemetry records the answer\'s decision');
});

test('TrunkTaskRunner: auto takes the node\'s plan; malformed and unknown-model jobs fail alone', async () => {
  const transport = new FakeTrunkTransport();
  const engine = new FakeEngine([UNSURE, SURE, UNSURE]);
  const answer = await trunkRunner(engine, transport).run(inferJob({ plan: 'auto' }) as any);
  assert.deepEqual(answer.plan, ['trunk', 'trunk']);
  assert.equal(answer.planSource, 'auto');
  assert.equal(answer.cpuUtil, 0.3);
  assert.equal(answer.exitIndex, 1);
  await assert.rejects(trunkRunner(new FakeEngine(), new FakeTrunkTransport()).run(inferJob({ plan: 'turbo' }) as any), (e: Error) => e instanceof UnrecoverableError && /unknown plan/.test(e.message));
  await assert.rejects(trunkRunner(new FakeEngine(), new FakeTrunkTransport()).run(inferJob({ model: 'resnet' }) as any), (e: Error) => e instanceof UnrecoverableError && /'resnet' is not served/.test(e.message));
});

test('TrunkTaskRunner: a task taken after its deadline fails without running a segment, and its record says so', async () => {
  const transport = new FakeTrunkTransport();
  const engine = new FakeEngine();
  const deadline = nowMs() - 50;
  await assert.rejects(
    trunkRunner(engine, transport).run(inferJob({ deadline }) as any),
    (e: Error) => e instanceof DeadlineExpiredError && e instanceof UnrecoverableError && /deadline \(parameters\.timeout\) passed \d+\.\d ms before a trunk worker took it; not run/.test(e.message),
  );
  assert.deepEqual(engine.calls, [], 'no segment ran');
  assert.deepEqual(transport.claims, []);
  assert.deepEqual(transport.telemetry?.segmentsRan, []);
  assert.ok(transport.telemetry!.deadlineExpiredMs! >= 50);
  // A deadline still ahead runs as usual.
  const later = new FakeTrunkTransport();
  await trunkRunner(new FakeEngine(), later).run(inferJob({ plan: 'full', deadline: nowMs() + 60_000 }) as any);
  assert.deepEqual(later.telemetry?.segmentsRan, [0, 1, 2]);
  assert.equal(later.telemetry?.deadlineExpiredMs, undefined);
});

/** A fake branch transport: the feature it hands over (or not), and the claim's result. */
class FakeBranchTransport {
  claims: { answer: TaskAnswer; replyTo?: string; trunkNodeId: string }[] = [];
  constructor(
    private readonly feature: Float32Array | undefined | Error,
    private readonly stored?: TaskAnswer,
  ) {}
  async takeFeature() {
    if (this.feature instanceof Error) throw this.feature;
    return this.feature;
  }
  async claim(answer: TaskAnswer, replyTo: string | undefined, trunkNodeId: string) {
    this.claims.push({ answer, replyTo, trunkNodeId });
    return this.stored ? { answer: this.stored, won: false } : { answer, won: true };
  }
}

class FakeHeads {
  runs: { model: string; exitIndex: number; length: number }[] = [];
  constructor(private readonly probabilities: Float32Array) {}
  async runExit(model: string, exitIndex: number, feature: { data: Float32Array }) {
    this.runs.push({ model, exitIndex, length: feature.data.length });
    return { probabilities: this.probabilities, decidedAt: 42, ranMs: 0.5 };
  }
}

const subjob = (over: Partial<BranchJobData> = {}) => ({
  id: 'sub-1',
  data: {
    taskId: 'task-1',
    model: m.name,
    exitIndex: 0,
    feature: { transport: 'shm', file: 'task-1.0.f32' },
    featureShape: [1, 16, 28, 28],
    threshold: 0.9,
    trunkNodeId: 'n1',
    handedOffAt: nowMs(),
    task: { requestId: 'req-1', replyTo: 'gw-1', trunkEp: 'cpu', plan: ['branch', 'branch'], planSource: 'request', queueMs: 1, thresholdVersion: 1 },
    ...over,
  } as BranchJobData,
});

const headRunner = (transport: FakeBranchTransport, heads: FakeHeads) => new ExitHeadRunner({ nodeId: 'n1' } as any, packages, heads as any, transport as any, new HeadTimes());

test('ExitHeadRunner: dropped when the task is already answered (takeFeature says so); the head never runs', async () => {
  const heads = new FakeHeads(SURE);
  const transport = new FakeBranchTransport(undefined);
  const result = await headRunner(transport, heads).run(subjob() as any);
  assert.equal(result.outcome, 'dropped');
  assert.equal(result.headMs, undefined);
  assert.deepEqual(heads.runs, []);
  assert.deepEqual(transport.claims, []);
});

test('ExitHeadRunner: a confident head claims the task (exit), or learns it came late (late); an unsure one continues', async () => {
  const feature = new Float32Array(FEATURE);
  const heads = new FakeHeads(SURE);
  const winner = new FakeBranchTransport(feature);
  const won = await headRunner(winner, heads).run(subjob() as any);
  assert.equal(won.outcome, 'exit');
  assert.equal(won.confidence, Math.fround(0.95));
  assert.equal(won.headMs, 0.5);
  assert.deepEqual(heads.runs, [{ model: m.name, exitIndex: 0, length: FEATURE }]);
  const claim = winner.claims[0];
  assert.deepEqual([claim.replyTo, claim.trunkNodeId], ['gw-1', 'n1'], 'published to the gateway and the trunk\'s node');
  assert.deepEqual([claim.answer.exitWorker, claim.answer.exitIndex, claim.answer.decidedAt, claim.answer.requestId, claim.answer.taskId], ['branch', 0, 42, 'req-1', 'task-1']);

  const late = await headRunner(new FakeBranchTransport(feature, answerOf('task-1', 2, 'trunk', 40)), new FakeHeads(SURE)).run(subjob() as any);
  assert.equal(late.outcome, 'late');

  const unsure = new FakeBranchTransport(feature);
  const cont = await headRunner(unsure, new FakeHeads(UNSURE)).run(subjob() as any);
  assert.equal(cont.outcome, 'continue');
  assert.deepEqual(unsure.claims, []);
});

test('ExitHeadRunner: a subjob it cannot run fails alone (no retry)', async () => {
  const feature = new Float32Array(FEATURE);
  const cases: [string, ReturnType<typeof subjob>, FakeBranchTransport, RegExp][] = [
    ['unknown model', subjob({ model: 'resnet' }), new FakeBranchTransport(feature), /'resnet' is not served/],
    ['the final exit', subjob({ exitIndex: 2 }), new FakeBranchTransport(feature), /exit 2 is not an early exit/],
    ['no task context', subjob({ task: undefined as any }), new FakeBranchTransport(feature), /malformed job: task is required/],
    ['a feature reference of no transport', subjob({ feature: { file: 'x' } as any }), new FakeBranchTransport(feature), /malformed job: feature\.transport is required/],
    ['a bad feature reference', subjob(), new FakeBranchTransport(new Error('feature file name "../x" is not one a trunk worker writes')), /not one a trunk worker writes/],
    ['a feature of the wrong size', subjob(), new FakeBranchTransport(new Float32Array(10)), /feature of 10 values does not fit shape/],
  ];
  for (const [name, job, transport, message] of cases) {
    await assert.rejects(headRunner(transport, new FakeHeads(SURE)).run(job as any), (e: Error) => e instanceof UnrecoverableError && message.test(e.message), name);
  }
});
