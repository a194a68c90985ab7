import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, bullConnection, maskRedisUrl, readGatewaySettings } from '@outlet/config';
import { ApiKeys, KeyCheck, bearerChallenge } from '../../apps/gateway/src/access/api-keys';

const KEY = '0123456789abcdef0123';

test('access settings: open, no rate limit and no CORS by default', () => {
  const g = readGatewaySettings({});
  assert.deepEqual(g.apiKeys, []);
  assert.equal(g.rateLimit, undefined);
  assert.equal(g.corsOrigins, undefined);
  assert.equal(readGatewaySettings({ OUTLET_RATE_LIMIT: '0' }).rateLimit, undefined, '0 is off');
});

test('access settings: keys, rate limit and origins read', () => {
  const g = readGatewaySettings({
    OUTLET_API_KEYS: ` ${KEY} ,${KEY}x,${KEY}`,
    OUTLET_RATE_LIMIT: '100',
    OUTLET_CORS_ORIGINS: 'https://app.example.com, http://localhost:8080',
  });
  assert.deepEqual(g.apiKeys, [KEY, `${KEY}x`], 'trimmed, duplicates dropped');
  assert.deepEqual(g.rateLimit, { limit: 100, windowMs: 1000 });
  assert.deepEqual(g.corsOrigins, ['https://app.example.com', 'http://localhost:8080']);
  assert.equal(readGatewaySettings({ OUTLET_CORS_ORIGINS: '*' }).corsOrigins, '*');
  assert.deepEqual(readGatewaySettings({ OUTLET_RATE_LIMIT: '5', OUTLET_RATE_WINDOW_MS: '60000' }).rateLimit, { limit: 5, windowMs: 60000 });
});

test('access settings: a bad value is named, a key never printed', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ OUTLET_API_KEYS: 'short-key' }, /OUTLET_API_KEYS: key 1 of 1 has 9 characters; use at least 16/],
    [{ OUTLET_API_KEYS: `${KEY},` }, /OUTLET_API_KEYS: key 2 of 2 is empty \(a stray comma\?\)/],
    [{ OUTLET_API_KEYS: `${KEY},with a space in it 1234` }, /key 2 of 2 has a space or a character outside printable ASCII/],
    [{ OUTLET_RATE_LIMIT: 'many' }, /OUTLET_RATE_LIMIT='many' must be an integer/],
    [{ OUTLET_RATE_WINDOW_MS: '10' }, /OUTLET_RATE_WINDOW_MS='10' must be an integer from 100/],
    [{ OUTLET_CORS_ORIGINS: 'https://app.example.com/' }, /'https:\/\/app.example.com\/' is not an origin/],
    [{ OUTLET_CORS_ORIGINS: 'app.example.com' }, /'app.example.com' is not an origin/],
    [{ OUTLET_CORS_ORIGINS: 'ftp://files.example.com' }, /is not an origin/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => readGatewaySettings(env), (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes('short-key'), JSON.stringify(env));
  }
});

/** The check's refusal (fails the test when it let the request in). */
function refusal(check: KeyCheck): Extract<KeyCheck, { ok: false }> {
  assert.equal(check.ok, false);
  return check as Extract<KeyCheck, { ok: false }>;
}

test('ApiKeys: open without keys; missing, malformed and wrong keys told apart', () => {
  assert.deepEqual(new ApiKeys([]).check(undefined, 'header'), { ok: true });
  const keys = new ApiKeys([KEY, `${KEY}-second`]);
  assert.deepEqual(keys.check(`Bearer ${KEY}`, 'header'), { ok: true, keyId: 'key-1' });
  assert.deepEqual(keys.check(`bearer  ${KEY}-second `, 'metadata'), { ok: true, keyId: 'key-2' });
  const missing = refusal(keys.check(undefined, 'header'));
  assert.deepEqual(missing, { ok: false, problem: 'missing', message: "missing API key: send the header 'Authorization: Bearer <key>'" });
  assert.equal(refusal(keys.check('  ', 'metadata')).message, "missing API key: send the metadata 'authorization: Bearer <key>'");
  const malformed = refusal(keys.check(`Basic ${KEY}`, 'header'));
  assert.equal(malformed.problem, 'malformed');
  const wrong = refusal(keys.check(`Bearer ${KEY.slice(0, -1)}`, 'header'));
  assert.equal(wrong.problem, 'wrong');
  assert.equal(refusal(keys.check(`Bearer ${KEY}${KEY}`, 'header')).problem, 'wrong', 'a longer text holding a key is wrong');
  assert.equal(bearerChallenge(missing), 'Bearer realm="outlet"');
  assert.equal(bearerChallenge(malformed), 'Bearer realm="outlet", error="invalid_request"');
  assert.equal(bearerChallenge(wrong), 'Bearer realm="outlet", error="invalid_token"');
});

test('maskRedisUrl hides the password, parsed or not', () => {
  assert.equal(maskRedisUrl('redis://:secret@127.0.0.1:6379'), 'redis://:***@127.0.0.1:6379');
  assert.equal(maskRedisUrl('rediss://default:p%40ss@redis.example.com:6380/2'), 'rediss://default:***@redis.example.com:6380/2');
  assert.equal(maskRedisUrl('redis//:secret@host'), 'redis//:***@host');
  assert.equal(maskRedisUrl('redis://user@host:6379'), 'redis://user@host:6379', 'no password, nothing to hide');
  assert.equal(maskRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
});

test('bullConnection: rediss:// turns TLS on, user and password decoded', () => {
  const c = bullConnection('rediss://default:p%40ss@redis.example.com:6380/2') as Record<string, unknown>;
  assert.deepEqual(
    { host: c.host, port: c.port, username: c.username, password: c.password, db: c.db, tls: c.tls },
    { host: 'redis.example.com', port: 6380, username: 'default', password: 'p@ss', db: 2, tls: {} },
  );
  assert.equal((bullConnection('redis://:pw@127.0.0.1:6379') as Record<string, unknown>).tls, undefined);
});
