import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { RedisConnectionWatch, isConnectionError, redisAddress, reportErrorsBesidesOutages } from '@outlet/transport';
import { RedisAvailability, RedisUnavailableError, withDeadline } from '../../apps/gateway/src/redis-availability.service';

/** An ioredis connection as the watch sees it: events and a status, set as ioredis sets them. */
class FakeConnection extends EventEmitter {
  status = 'connecting';
  to(status: string, ...args: unknown[]) {
    this.status = status;
    this.emit(status, ...args);
  }
  fail(message: string, code?: string) {
    this.emit('error', Object.assign(new Error(message), { code }));
  }
}

class Lines {
  readonly all: string[] = [];
  log = (line: string) => this.all.push(`log ${line}`);
  warn = (line: string) => this.all.push(`warn ${line}`);
}

const refused = 'connect ECONNREFUSED 127.0.0.1:6379';

test('RedisConnectionWatch: one line when lost, one when back, however many attempts fail in between', () => {
  const connection = new FakeConnection();
  const lines = new Lines();
  let now = 1_000;
  const watch = new RedisConnectionWatch(connection, '127.0.0.1:6379', 'requests get 503', lines, () => now);
  connection.to('ready');
  assert.equal(watch.ready, true);
  assert.deepEqual(lines.all, [], 'the first connection is not a return');

  connection.to('close');
  assert.equal(watch.ready, false, 'not ready as soon as the socket closes');
  connection.to('reconnecting', 50);
  for (let attempt = 0; attempt < 20; attempt++) {
    connection.fail(refused, 'ECONNREFUSED');
    connection.to('close');
    connection.to('reconnecting', 100);
  }
  now += 7_250;
  assert.match(watch.state, /^lost 7\.3 s ago: connect ECONNREFUSED/);
  connection.to('ready');
  assert.equal(watch.ready, true);
  assert.deepEqual(lines.all, [
    'warn lost Redis at 127.0.0.1:6379 (connection closed); reconnecting — requests get 503',
    'log Redis at 127.0.0.1:6379 is back after 7.3 s',
  ]);

  // A second outage is reported again, with the error that came before the first attempt.
  connection.fail('read ECONNRESET', 'ECONNRESET');
  connection.to('close');
  connection.to('reconnecting', 50);
  assert.equal(lines.all[2], 'warn lost Redis at 127.0.0.1:6379 (read ECONNRESET); reconnecting — requests get 503');
});

test('RedisConnectionWatch: a shutdown (quit: close, then end, no reconnection) writes nothing', () => {
  const connection = new FakeConnection();
  const lines = new Lines();
  new RedisConnectionWatch(connection, 'h:1', 'x', lines);
  connection.to('ready');
  connection.to('close');
  connection.to('end');
  assert.deepEqual(lines.all, []);
});

test('isConnectionError: socket errors and closed-connection words, not script or data errors', () => {
  assert.equal(isConnectionError(Object.assign(new Error(refused), { code: 'ECONNREFUSED' })), true);
  assert.equal(isConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
  assert.equal(isConnectionError(new Error('Connection is closed.')), true);
  assert.equal(isConnectionError(new Error("Stream isn't writeable and enableOfflineQueue options is false")), true);
  assert.equal(isConnectionError(new Error('Missing lock for job 7. moveToFinished')), false);
  assert.equal(isConnectionError(new Error('ERR Error running script')), false);
  assert.equal(isConnectionError(undefined), false);
});

test('reportErrorsBesidesOutages: connection errors are dropped, others are one line naming who had them', () => {
  const emitter = new EventEmitter();
  const lines = new Lines();
  reportErrorsBesidesOutages(emitter, 'worker of outlet-infer-m', lines);
  emitter.emit('error', Object.assign(new Error(refused), { code: 'ECONNREFUSED' }));
  emitter.emit('error', new Error('Missing lock for job 7. moveToFinished'));
  assert.deepEqual(lines.all, ['warn worker of outlet-infer-m: Missing lock for job 7. moveToFinished']);
});

test('redisAddress: host and port, never the password', () => {
  assert.equal(redisAddress('redis://:s3cret@10.0.0.5:6380/2'), '10.0.0.5:6380');
  assert.equal(redisAddress('rediss://user:pw@cache.example'), 'cache.example:6379');
});

test('withDeadline: the outcome within the time, else the timeout error; a late rejection is not left unhandled', async () => {
  assert.equal(await withDeadline(Promise.resolve(5), 50, () => new Error('late')), 5);
  await assert.rejects(withDeadline(Promise.reject(new Error('own')), 50, () => new Error('late')), /own/);
  let rejectLate!: (err: Error) => void;
  const hanging = new Promise<never>((_, reject) => (rejectLate = reject));
  const started = Date.now();
  await assert.rejects(withDeadline(hanging, 30, () => new Error('no answer')), /no answer/);
  // A safety limit, far above the 30 ms deadline: it means 'rejected by the deadline, not left hanging'.
  assert.ok(Date.now() - started < 10_000);
  rejectLate(new Error('after the deadline')); // would fail the test run as an unhandled rejection
  await new Promise((r) => setImmediate(r));
});

test('RedisAvailability: refused at once while the connection is not ready, without running the call', async () => {
  const connection = new FakeConnection();
  const watch = new RedisConnectionWatch(connection, 'h:1', 'x', new Lines());
  const availability = new RedisAvailability(watch);
  connection.to('reconnecting', 100);
  let ran = false;
  const refusal = await availability.call('task t1 was not queued', async () => (ran = true)).catch((err) => err);
  assert.equal(ran, false, 'nothing is sent to wait in ioredis\'s queue');
  assert.ok(refusal instanceof RedisUnavailableError);
  assert.equal(refusal.status, 503);
  assert.equal(refusal.retryAfterS, 3);
  assert.match(refusal.message, /^task t1 was not queued: Redis is not reachable \(lost .* s ago\); retry in 3 s$/);

  connection.to('ready');
  assert.equal(await availability.call('ping', async () => 'PONG'), 'PONG');
});
