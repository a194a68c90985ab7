import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, appEntry, freePort } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post, waitForJob } from '../support/http';

/** GET `url` until it is no longer refused for Redis (503), within 30 s. */
async function eventuallyServed(url: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await get(url).catch(() => undefined);
    if (res && res.status !== 503) return res;
    assert.ok(Date.now() < deadline, `${url} still refused after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('`outlet start` refuses OUTLET_REDIS_DIR together with REDIS_URL, by name', () => {
  const res = spawnSync(process.execPath, [appEntry('cli'), 'start'], {
    env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:6379', OUTLET_REDIS_DIR: join(tmpdir(), 'unused') },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /OUTLET_REDIS_DIR is for the private redis-server, but REDIS_URL \(or REDIS_CLUSTER_NODES, REDIS_SENTINELS\) is set/);
});

test('`outlet start` with OUTLET_REDIS_DIR: a job survives a kill -9 of its Redis (restarted by start) and a restart of the whole system', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'outlet-start-redis-')), 'redis'); // created by start
  const port = await freePort();
  let grpcPort = await freePort();
  while (grpcPort === port) grpcPort = await freePort();
  const start = () =>
    new ManagedProcess({
      name: 'outlet-start',
      command: process.execPath,
      args: [appEntry('cli'), 'start'],
      env: { PORT: String(port), OUTLET_GRPC_PORT: String(grpcPort), REDIS_URL: '', NODE_ID: 'durable', OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_REDIS_DIR: dir },
      readyPattern: /outlet: ready/,
      onLine: null,
    });
  const base = `http://127.0.0.1:${port}`;
  try {
    const first = start();
    await first.ready;
    assert.match(first.lines().join('\n'), /private redis-server with an append-only file in .*appendfsync always/);
    const submitted = await post(`${base}/v1/jobs`, { model: 'branchy-mnist', ...inferBody(heldOutDigit(7, 0)) });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const done = await waitForJob(base, submitted.body.id);
    assert.equal(done.state, 'completed');

    // kill -9 of the private Redis: start brings it back from its file, the processes reconnect.
    const redisPid = Number(execFileSync('pgrep', ['-P', String(first.pid), 'redis-server'], { encoding: 'utf8' }).trim());
    process.kill(redisPid, 'SIGKILL');
    const restarting = /private redis-server exited unexpectedly \(killed by a signal\); starting it again from its append-only file/;
    for (const deadline = Date.now() + 10_000; !first.lines().some((l) => restarting.test(l)); ) {
      assert.ok(Date.now() < deadline, `outlet start did not say it restarts Redis:\n${first.lines().join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const afterKill = await eventuallyServed(`${base}/v1/jobs/${submitted.body.id}`);
    assert.equal(afterKill.status, 200, JSON.stringify(afterKill.body));
    assert.equal(afterKill.body.state, 'completed', 'the job is still there after the kill');
    assert.ok(first.running, 'outlet start goes on');
    assert.equal(await first.stop('SIGINT'), 0, 'every process stops cleanly right after the outage');
    assert.ok(existsSync(join(dir, 'appendonlydir')), 'Redis wrote its append-only file in OUTLET_REDIS_DIR');

    const second = start();
    await second.ready;
    try {
      const again = await get(`${base}/v1/jobs/${submitted.body.id}`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.state, 'completed');
      assert.equal(again.body.result.parameters.label, '7', 'the answer is kept with the job');
    } finally {
      assert.equal(await second.stop('SIGINT'), 0);
    }
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
