import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGatewaySettings } from '@outlet/config';
import { parseRedisTarget, redisAddress, redisEnv, redisTargetFromEnv } from '@outlet/transport';

test('REDIS_CLUSTER_NODES, else REDIS_SENTINELS, else REDIS_URL: one target string for every process', () => {
  assert.equal(redisTargetFromEnv({ REDIS_URL: 'redis://h:1' }), 'redis://h:1');
  assert.equal(redisTargetFromEnv({}, 'redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.equal(redisTargetFromEnv({}), undefined);
  const cluster = redisTargetFromEnv({ REDIS_URL: 'redis://ignored:1', REDIS_CLUSTER_NODES: 'a:7000, b:7001', REDIS_PASSWORD: 'p@ss' })!;
  assert.deepEqual(parseRedisTarget(cluster), { mode: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }], username: undefined, password: 'p@ss', tls: false });
  const sentinel = redisTargetFromEnv({ REDIS_SENTINELS: 's1:26379,s2', REDIS_SENTINEL_NAME: 'mymaster', REDIS_TLS: 'on' })!;
  assert.deepEqual(parseRedisTarget(sentinel), { mode: 'sentinel', nodes: [{ host: 's1', port: 26379 }, { host: 's2', port: 6379 }], name: 'mymaster', username: undefined, password: undefined, tls: true });
  assert.equal(redisAddress(sentinel), "Sentinel primary 'mymaster' via s1:26379,s2:6379");
  assert.equal(redisAddress('redis://:s3cret@10.0.0.5:6380/2'), '10.0.0.5:6380');
  assert.equal(redisAddress(cluster), 'cluster a:7000,b:7001');
});

test('a child gets the same target through its environment, the other modes unset', () => {
  for (const env of [{ REDIS_URL: 'rediss://u:pw@h:6380/1' }, { REDIS_CLUSTER_NODES: 'a:7000,b:7001', REDIS_PASSWORD: 'x y' }, { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_USERNAME: 'me', REDIS_PASSWORD: 'pw' }]) {
    const target = redisTargetFromEnv(env)!;
    const child = redisEnv(target);
    const defined = Object.fromEntries(Object.entries(child).filter(([, v]) => v !== undefined)) as Record<string, string>;
    assert.equal(redisTargetFromEnv(defined), target, JSON.stringify(env));
  }
  assert.equal(redisEnv('redis://h:1').REDIS_CLUSTER_NODES, undefined);
});

test('bad cluster or Sentinel settings are refused by name', () => {
  assert.throws(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 's:1' }), /not both/);
  assert.throws(() => redisTargetFromEnv({ REDIS_SENTINELS: 's:26379' }), /REDIS_SENTINEL_NAME/);
  assert.throws(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:70000' }), /REDIS_CLUSTER_NODES: port 70000/);
  assert.throws(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: ' , ' }), /names no host:port/);
  assert.throws(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'yes' }), /REDIS_TLS must be on or off/);
  assert.throws(() => readGatewaySettings({ REDIS_CLUSTER_NODES: 'a:x' }), /REDIS_CLUSTER_NODES: 'a:x' is not host:port/);
});
