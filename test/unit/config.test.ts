import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaultThreadBudget, jobLockOptions, readBranchSettings, readGatewaySettings, readTrunkSettings } from '@outlet/config';

test('defaults are sane', () => {
  const g = readGatewaySettings({});
  assert.equal(g.port, 3000);
  assert.equal(g.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(g.defaultPlan, 'auto');
  assert.equal(g.admin, undefined);
  const t = readTrunkSettings({ NODE_ID: 'edge-1' }, 2);
  assert.equal(t.trunkEp, 'auto');
  assert.equal(t.threads, 1);
  assert.equal(readBranchSettings({ NODE_ID: 'edge-1' }).nodeId, 'edge-1');
});

test('a bad value stops start-up with the variable named', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT='eighty' must be an integer/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL='http:\/\/x' must start with redis:\/\//],
    [{ OUTLET_BODY_LIMIT: 'lots' }, /OUTLET_BODY_LIMIT='lots'/],
    [{ OUTLET_ADMIN_USER: 'admin' }, /OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD must be set together/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => readGatewaySettings(env), (e: Error) => e instanceof ConfigError && message.test(e.message));
  }
  assert.throws(() => readTrunkSettings({ OUTLET_TRUNK_EP: 'tpu' }), /OUTLET_TRUNK_EP='tpu' must be one of: auto, cuda, webgpu, cpu/);
  assert.throws(() => readTrunkSettings({ NODE_ID: 'a b' }), /NODE_ID='a b'/);
  assert.throws(() => readBranchSettings({ OUTLET_BRANCH_THREADS: '0' }), /OUTLET_BRANCH_THREADS='0' must be an integer from 1/);
});

test('default thread budget: by cores and the trunk processor (auto counts as cpu)', () => {
  // cores → [trunk, branch] for a CPU trunk and for an accelerator trunk.
  const table: [number, [number, number], [number, number]][] = [
    [2, [1, 1], [1, 1]],
    [4, [3, 1], [1, 1]],
    [8, [6, 1], [1, 2]],
    [16, [13, 2], [1, 4]],
    [64, [59, 4], [1, 4]],
  ];
  for (const [cores, cpu, accelerator] of table) {
    for (const ep of ['cpu', 'auto']) assert.deepEqual(defaultThreadBudget(cores, ep), { trunk: cpu[0], branch: cpu[1] }, `${cores} cores, ${ep}`);
    for (const ep of ['webgpu', 'cuda']) assert.deepEqual(defaultThreadBudget(cores, ep), { trunk: accelerator[0], branch: accelerator[1] }, `${cores} cores, ${ep}`);
  }
  assert.deepEqual(defaultThreadBudget(0, 'cpu'), { trunk: 1, branch: 1 });
  // The settings use it when the variables are unset, and the variables win.
  assert.equal(readTrunkSettings({ OUTLET_TRUNK_EP: 'webgpu' }, 16).threads, 1);
  assert.equal(readBranchSettings({ OUTLET_TRUNK_EP: 'webgpu' }, 16).threads, 4);
  assert.equal(readTrunkSettings({}, 16).threads, 13);
  assert.equal(readBranchSettings({}, 16).threads, 2);
  assert.equal(readTrunkSettings({ OUTLET_TRUNK_THREADS: '3' }, 16).threads, 3);
  assert.equal(readBranchSettings({ OUTLET_TRUNK_EP: 'webgpu', OUTLET_BRANCH_THREADS: '8' }, 16).threads, 8);
  assert.equal(readTrunkSettings({}, 2).threads, 1);
  assert.equal(readBranchSettings({}, 2).threads, 1);
  assert.throws(() => readBranchSettings({ OUTLET_TRUNK_EP: 'tpu' }), /OUTLET_TRUNK_EP='tpu'/);
});

test('OUTLET_LOCK_MS: short job locks by default, renewed and checked every half lock, validated', () => {
  assert.equal(readTrunkSettings({}).lockMs, 4000);
  assert.equal(readBranchSettings({ OUTLET_LOCK_MS: '10000' }).lockMs, 10000);
  assert.deepEqual(jobLockOptions(4000), { lockDuration: 4000, lockRenewTime: 2000, stalledInterval: 2000, maxStalledCount: 1 });
  assert.throws(() => readTrunkSettings({ OUTLET_LOCK_MS: '500' }), /OUTLET_LOCK_MS='500' must be an integer from 1000/);
  assert.throws(() => readBranchSettings({ OUTLET_LOCK_MS: 'soon' }), /OUTLET_LOCK_MS='soon'/);
});
