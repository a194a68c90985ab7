import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { ManagedProcess, appEntry, freePort } from '@outlet/supervisor';
import { credentials } from '@grpc/grpc-js';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { post } from '../support/http';

const outlet = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [appEntry('cli'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

test('`outlet start` without REDIS_URL and without redis-server says how to get Redis', () => {
  const env = { ...process.env, PATH: '/nonexistent', REDIS_URL: '' } as Record<string, string>;
  const res = spawnSync(process.execPath, [appEntry('cli'), 'start'], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /REDIS_URL is not set and redis-server is not installed.*apt-get install -y redis-server/s);
});

test('`outlet start` refuses a bad setting by name', () => {
  const res = outlet(['start'], { PORT: 'http' });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /PORT='http' must be an integer/);
  const unreachable = outlet(['start'], { REDIS_URL: 'redis://127.0.0.1:1' });
  assert.equal(unreachable.status, 1);
  assert.match(unreachable.stderr, /REDIS_URL=redis:\/\/127.0.0.1:1 does not answer/);
});

/** `outlet start` with a private Redis on free HTTP and gRPC ports (not yet ready: await `start.ready`). */
async function startOutlet(env: Record<string, string>) {
  const port = await freePort();
  let grpcPort = await freePort();
  while (grpcPort === port) grpcPort = await freePort();
  const start = new ManagedProcess({
    name: 'outlet-start',
    command: process.execPath,
    args: [appEntry('cli'), 'start'],
    env: { PORT: String(port), OUTLET_GRPC_PORT: String(grpcPort), REDIS_URL: '', OUTLET_MODELS_DIR: MODELS_DIR, ...env },
    readyPattern: /outlet: ready/,
    onLine: null,
  });
  return { start, port, grpcPort };
}

test('`outlet start` runs the whole system on a private Redis; SIGINT stops every process', async () => {
  const { start, port, grpcPort } = await startOutlet({ NODE_ID: 'quickstart' });
  await start.ready;
  const res = await post(`http://127.0.0.1:${port}/v2/models/branchy-mnist/infer`, inferBody(heldOutDigit(7, 0)));
  assert.equal(res.status, 200);
  assert.equal(res.body.parameters.label, '7');
  assert.equal(res.body.parameters.node_id, 'quickstart');
  const printed = start.lines().join('\n');
  assert.match(printed, new RegExp(`API +http://localhost:${port}/v2/models/`));
  assert.match(printed, /Bull Board +off/);
  assert.match(printed, new RegExp(`gRPC +localhost:${grpcPort} `));
  const grpcClient = new (loadGrpcInferenceService())(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const live = await new Promise((resolve, reject) => (grpcClient as any).ServerLive({}, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))));
  grpcClient.close();
  assert.deepEqual(live, { live: true });

  const children = execFileSync('pgrep', ['-P', String(start.pid)], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(children.length, 4, 'redis, gateway, trunk and branch');
  assert.equal(await start.stop('SIGINT'), 0);
  for (const pid of children) assert.throws(() => process.kill(Number(pid), 0), /ESRCH/, `process ${pid} still runs`);
});

test('`outlet start`: a node drained with `outlet nodes drain` (with an API key) leaves on purpose; the supervisor says so and keeps the gateway up', async () => {
  const key = 'fleet-test-key-0123456789abcdef';
  const { start, port } = await startOutlet({ NODE_ID: 'drained-start', OUTLET_HEARTBEAT_MS: '250', OUTLET_API_KEYS: key });
  try {
    await start.ready;
    const url = `http://127.0.0.1:${port}`;
    const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [appEntry('cli'), 'nodes', ...args, '--url', url], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    const refused = cli(['drain', 'drained-start'], { OUTLET_API_KEY: '' });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /answered 401/);
    const drain = cli(['drain', 'drained-start', '--wait'], { OUTLET_API_KEY: key });
    assert.equal(drain.status, 0, drain.stderr);
    assert.match(drain.stdout, /node drained-start: drain ordered/);
    assert.match(drain.stdout, /node drained-start: gone \(drained\)/);
    const deadline = Date.now() + 30_000;
    const left = (role: string) => start.lines().some((l) => new RegExp(`${role}:drained-start left on purpose`).test(l));
    while (!(left('trunk') && left('branch'))) {
      assert.ok(Date.now() < deadline, `the supervisor did not log both departures:\n${start.lines().slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!start.lines().some((l) => /exited unexpectedly|stopping every process/.test(l)), start.lines().slice(-10).join('\n'));
    assert.equal((await fetch(`${url}/v2/health/live`)).status, 200, 'the gateway goes on');
    assert.equal(start.running, true);
  } finally {
    assert.equal(await start.stop('SIGINT'), 0);
  }
});
