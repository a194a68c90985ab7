import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { AnswerMessage, TaskAnswer, answerKey } from '@outlet/contracts';
import { startPrivateRedis } from '@outlet/supervisor';
import { claimAnswer, isAnswered, parseAnswerMessage } from '@outlet/transport';

/** claimAnswer against a real redis-server: the task's answer key settles the race between decisions. */
const answer = (taskId: string, exitWorker: 'branch' | 'trunk', exitIndex: number, decidedAt: number): TaskAnswer => ({
  taskId,
  model: 'm',
  modelVersion: '1',
  requestId: `r-${taskId}`,
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: exitWorker === 'branch' ? [0.9, 0.1] : [0.2, 0.8] }],
  exitIndex,
  exitCount: 3,
  exitConfidence: exitWorker === 'branch' ? 0.9 : 0.8,
  exitWorker,
  nodeId: 'n1',
  trunkEp: 'cpu',
  plan: ['branch', 'trunk'],
  planSource: 'request',
  queueMs: 0.5,
  thresholdVersion: 1,
  decidedAt,
});

describe('claimAnswer on a real Redis', () => {
  let server: Awaited<ReturnType<typeof startPrivateRedis>>;
  let a: Redis;
  let b: Redis;
  let listener: Redis;
  const heard: { channel: string; message: AnswerMessage }[] = [];

  before(async () => {
    server = await startPrivateRedis();
    // Two claimants on their own connections (two worker processes), and a subscriber (the gateway and the trunk).
    a = new Redis(server.url);
    b = new Redis(server.url);
    listener = new Redis(server.url);
    listener.on('message', (channel: string, text: string) => {
      const message = parseAnswerMessage(text);
      assert.ok(message, `a well-formed message on ${channel}`);
      heard.push({ channel, message });
    });
    await listener.subscribe('gateway', 'trunk');
  });

  after(async () => {
    a?.disconnect();
    b?.disconnect();
    listener?.disconnect();
    await server?.server.stop();
  });

  /** Wait until `n` messages were heard in all (the publish comes before the claim's reply; the delivery may trail it). */
  const heardAtLeast = async (n: number) => {
    const deadline = Date.now() + 5_000;
    while (heard.length < n) {
      assert.ok(Date.now() < deadline, `heard ${heard.length} of ${n} messages`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  test('two concurrent claims: exactly one wins, the loser gets the winner\'s answer, subscribers hear exactly one message', async () => {
    for (let round = 0; round < 20; round++) {
      const taskId = `task-${round}`;
      heard.length = 0;
      const mineA = answer(taskId, 'branch', 0, 1000 + round);
      const mineB = answer(taskId, 'trunk', 1, 1001 + round);
      const [ra, rb] = await Promise.all([claimAnswer(a, mineA, ['gateway', 'trunk']), claimAnswer(b, mineB, ['gateway'])]);
      assert.equal(Number(ra.won) + Number(rb.won), 1, `round ${round}: exactly one claim wins`);
      const winner = ra.won ? mineA : mineB;
      assert.deepEqual(ra.answer, winner, `round ${round}: A's result is the winner's answer`);
      assert.deepEqual(rb.answer, winner, `round ${round}: B's result is the winner's answer`);
      assert.equal(await isAnswered(a, taskId), true);
      assert.deepEqual((JSON.parse((await a.get(answerKey(taskId)))!) as AnswerMessage).answer, winner, 'the key holds the winner');
      // The winner published on its own channels, once each; the loser published nothing. Redis
      // delivers to one subscriber in execution order, so once a marker published after both claims
      // arrives, every message of the claims has arrived before it.
      const channels = ra.won ? ['gateway', 'trunk'] : ['gateway'];
      await a.publish('gateway', JSON.stringify({ taskId: 'marker', error: 'marker' }));
      await heardAtLeast(channels.length + 1);
      const marker = heard.findIndex((h) => h.message.taskId === 'marker');
      assert.equal(marker, heard.length - 1, `round ${round}: the marker comes last: ${JSON.stringify(heard)}`);
      const fromClaims = heard.slice(0, marker);
      assert.deepEqual(fromClaims.map((h) => h.channel).sort(), channels, `round ${round}: one message per channel of the winner`);
      for (const h of fromClaims) assert.deepEqual(h.message, { taskId, answer: winner });
      const ttl = await a.pttl(answerKey(taskId));
      assert.ok(ttl > 0, 'the answer key expires');
    }
  });

  test('a later claim loses to the stored answer and publishes nothing', async () => {
    heard.length = 0;
    const first = answer('late-1', 'branch', 0, 10);
    assert.equal((await claimAnswer(a, first, ['gateway'])).won, true);
    await heardAtLeast(1);
    const later = await claimAnswer(b, answer('late-1', 'trunk', 2, 5), ['gateway', 'trunk']);
    assert.equal(later.won, false);
    assert.deepEqual(later.answer, first, 'the stored answer, even though the later claim says it decided earlier');
    // Publish a marker after the losing claim: when it arrives, any publish of the loser would have too.
    await a.publish('trunk', JSON.stringify({ taskId: 'marker', error: 'marker' }));
    await heardAtLeast(2);
    assert.deepEqual(heard.map((h) => h.message.taskId), ['late-1', 'marker']);
    assert.equal(await isAnswered(a, 'never-claimed'), false);
  });
});
