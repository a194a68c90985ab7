import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readBranchSettings, readGatewaySettings, readTrunkSettings } from '@outlet/config';

test('defaults are sane', () => {
  const g = readGatewaySettings({});
  assert.equal(g.port, 3000);
  assert.equal(g.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(g.defaultPlan, 'auto');
  assert.equal(g.admin, undefined);
  const t = readTrunkSettings({ NODE_ID: 'edge-1' });
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
