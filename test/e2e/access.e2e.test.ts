import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ManagedProcess, OutletSystem, appEntry, freePort } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post, request, waitForJob } from '../support/http';
import { loadGrpcInferenceService } from '../../apps/gateway/src/grpc/proto';

const MODEL = 'branchy-mnist';
const KEY_A = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const KEY_B = 'key-b-0123456789abcdef';
const ALLOWED_ORIGIN = 'https://app.example.com';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const digitBody = () => inferBody(heldOutDigit(7, 0), { plan: 'serial' });

/** Every route that needs a key, with a request that succeeds once the key is right. */
const KEYED_ROUTES: Array<[method: string, path: string, body?: unknown]> = [
  ['POST', `/v2/models/${MODEL}/infer`, digitBody()],
  ['POST', `/v2/models/${MODEL}/versions/1/infer`, digitBody()],
  ['POST', '/v1/jobs', { model: MODEL, ...digitBody() }],
  ['GET', '/v1/jobs/no-such-job'],
  ['GET', `/v1/models/${MODEL}/plan`],
  ['GET', '/metrics'],
  ['GET', '/v2/models/stats'],
  ['GET', `/v2/models/${MODEL}/stats`],
  ['GET', `/v2/models/${MODEL}/config`],
  ['POST', '/v2/repository/index', {}],
  ['GET', '/v2'],
  ['GET', `/v2/models/${MODEL}`],
];
const OPEN_ROUTES = ['/v2/health/live', '/v2/health/ready', `/v2/models/${MODEL}/ready`];

/** One unary gRPC call with metadata; a refusal rejects with the ServiceError. */
function call<T = any>(client: grpc.Client, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    (client as any)[method](request, metadata, { deadline: Date.now() + 30_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

function grpcAuth(value: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', value);
  return md;
}

/** A second gateway on the system's Redis, with its own settings; stopped by the caller. */
async function extraGateway(redisUrl: string, env: Record<string, string>): Promise<{ gateway: ManagedProcess; baseUrl: string; grpcAddress: string }> {
  const port = await freePort();
  const gateway = new ManagedProcess({
    name: 'gateway-extra',
    command: process.execPath,
    args: [appEntry('gateway')],
    env: { REDIS_URL: redisUrl, PORT: String(port), OUTLET_GRPC_PORT: '0', OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_API_KEYS: '', ...env },
    readyPattern: /serving .* API http/,
    onLine: null,
  });
  await gateway.ready;
  const grpcPort = gateway.lines().map((l) => /gRPC localhost:(\d+)/.exec(l)?.[1]).find(Boolean);
  return { gateway, baseUrl: `http://127.0.0.1:${port}`, grpcAddress: `127.0.0.1:${grpcPort}` };
}

/** A gateway expected to stop at start-up: its exit code and everything it printed. */
async function failedGateway(redisUrl: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const gateway = new ManagedProcess({
    name: 'gateway-failing',
    command: process.execPath,
    args: [appEntry('gateway')],
    env: { REDIS_URL: redisUrl, PORT: String(await freePort()), OUTLET_GRPC_PORT: '0', OUTLET_MODELS_DIR: MODELS_DIR, ...env },
    readyPattern: /serving .* API http/,
    onLine: null,
  });
  const code = await gateway.exited;
  return { code, output: gateway.lines().join('\n') };
}

describe('who may use the gateway: API keys, helmet headers, CORS', () => {
  let system: OutletSystem;
  let client: grpc.Client;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      gatewayEnv: {
        OUTLET_API_KEYS: `${KEY_A}, ${KEY_B}`,
        OUTLET_CORS_ORIGINS: `${ALLOWED_ORIGIN},http://localhost:8080`,
        OUTLET_ADMIN_USER: 'ops',
        OUTLET_ADMIN_PASSWORD: 'board-password',
      },
      nodes: [{ nodeId: 'edge-access' }],
    });
    const Service = loadGrpcInferenceService();
    client = new Service(system.grpcAddress, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await system?.stop();
  });

  test('without a key, every keyed route answers 401 with a Bearer challenge and says the key is missing', async () => {
    for (const [method, path, body] of KEYED_ROUTES) {
      const res = await request(method, `${system.baseUrl}${path}`, body);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="outlet"', `${method} ${path}`);
      assert.match(res.body.error, /^missing API key: send the header 'Authorization: Bearer <key>'/, `${method} ${path}`);
    }
  });

  test('a wrong key is 401 invalid_token, a header that is not Bearer is 401 invalid_request', async () => {
    for (const [method, path, body] of KEYED_ROUTES) {
      const wrong = await request(method, `${system.baseUrl}${path}`, body, bearer(`${KEY_A}x`));
      assert.equal(wrong.status, 401, `${method} ${path}`);
      assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="outlet", error="invalid_token"');
      assert.equal(wrong.body.error, 'wrong API key');
    }
    const malformed = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, digitBody(), basic('user', KEY_A));
    assert.equal(malformed.status, 401);
    assert.equal(malformed.headers.get('www-authenticate'), 'Bearer realm="outlet", error="invalid_request"');
    assert.equal(malformed.body.error, "the Authorization header must be 'Bearer <key>'");
  });

  test('either key opens every keyed route; inference and an asynchronous job answer', async () => {
    for (const key of [KEY_A, KEY_B]) {
      for (const [method, path, body] of KEYED_ROUTES) {
        const res = await request(method, `${system.baseUrl}${path}`, body, bearer(key));
        const expected = path === '/v1/jobs/no-such-job' ? 404 : path === '/v1/jobs' ? 202 : 200;
        assert.equal(res.status, expected, `${method} ${path}: ${JSON.stringify(res.body).slice(0, 200)}`);
      }
    }
    const answer = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, digitBody(), bearer(KEY_B));
    assert.equal(answer.body.parameters.label, '7');
    const job = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...digitBody() }, bearer(KEY_A));
    const done = await waitForJob(system.baseUrl, job.body.id, 30_000, bearer(KEY_A));
    assert.equal(done.state, 'completed');
    assert.equal(done.result.parameters.label, '7');
  });

  test('health stays open', async () => {
    for (const path of OPEN_ROUTES) {
      const res = await get(`${system.baseUrl}${path}`);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
    }
  });

  test('gRPC: the same keys in the authorization metadata, UNAUTHENTICATED without them; health RPCs open', async () => {
    const infer = { model_name: MODEL, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 28, 28], contents: { fp32_contents: heldOutDigit(7, 0) } }] };
    const keyed: [string, object][] = [
      ['ModelInfer', infer],
      ['ServerMetadata', {}],
      ['ModelMetadata', { name: MODEL }],
      ['ModelConfig', { name: MODEL }],
      ['ModelStatistics', { name: MODEL }],
      ['RepositoryIndex', {}],
    ];
    for (const [method, request] of keyed) {
      await assert.rejects(call(client, method, request), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.UNAUTHENTICATED, method);
        assert.match(err.details, /^missing API key: send the metadata 'authorization: Bearer <key>'/);
        return true;
      });
      await assert.rejects(call(client, method, request, grpcAuth(`Bearer ${KEY_B}-not`)), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.UNAUTHENTICATED, method);
        assert.equal(err.details, 'wrong API key');
        return true;
      });
    }
    const answer = await call(client, 'ModelInfer', infer, grpcAuth(`Bearer ${KEY_A}`));
    assert.equal(answer.parameters.label.string_param, '7');
    assert.equal((await call(client, 'ServerMetadata', {}, grpcAuth(`bearer ${KEY_B}`))).name, 'outlet');
    assert.equal((await call(client, 'ModelConfig', { name: MODEL }, grpcAuth(`Bearer ${KEY_A}`))).config.name, MODEL);
    assert.equal((await call(client, 'ModelStatistics', { name: MODEL }, grpcAuth(`Bearer ${KEY_B}`))).model_stats[0].name, MODEL);
    assert.ok((await call(client, 'RepositoryIndex', {}, grpcAuth(`Bearer ${KEY_A}`))).models.some((m: any) => m.name === MODEL));
    assert.deepEqual(await call(client, 'ServerLive', {}), { live: true });
    assert.deepEqual(await call(client, 'ServerReady', {}), { ready: true });
    assert.deepEqual(await call(client, 'ModelReady', { name: MODEL }), { ready: true });
  });

  test('Bull Board keeps its own basic auth: an API key does not open it', async () => {
    const withKey = await get(`${system.baseUrl}/admin/queues`, bearer(KEY_A));
    assert.equal(withKey.status, 401);
    assert.match(withKey.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.equal((await get(`${system.baseUrl}/admin/queues`, basic('ops', 'board-password'))).status, 200);
  });

  test('helmet headers on every response, and no X-Powered-By', async () => {
    const responses = {
      infer: await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, digitBody(), bearer(KEY_A)),
      refused: await get(`${system.baseUrl}/metrics`),
      health: await get(`${system.baseUrl}/v2/health/live`),
      unknown: await get(`${system.baseUrl}/no/such/route`),
      docs: await get(`${system.baseUrl}/docs`),
      board: await get(`${system.baseUrl}/admin/queues`, basic('ops', 'board-password')),
      boardApi: await get(`${system.baseUrl}/admin/queues/api/queues`, basic('ops', 'board-password')),
    };
    for (const [name, res] of Object.entries(responses)) {
      const h = res.headers;
      assert.equal(h.get('x-powered-by'), null, `${name}: X-Powered-By`);
      assert.equal(h.get('x-content-type-options'), 'nosniff', name);
      assert.equal(h.get('x-frame-options'), 'SAMEORIGIN', name);
      assert.equal(h.get('referrer-policy'), 'no-referrer', name);
      assert.match(h.get('strict-transport-security') ?? '', /max-age=\d+/, name);
      assert.match(h.get('content-security-policy') ?? '', /default-src 'self'/, name);
      assert.doesNotMatch(h.get('content-security-policy') ?? '', /upgrade-insecure-requests/, `${name}: plain HTTP must not upgrade`);
    }
  });

  test('Swagger UI and Bull Board load under the Content-Security-Policy: scripts of this origin, no inline code', async () => {
    const pages = [
      { path: '/docs', headers: {} },
      { path: '/admin/queues', headers: basic('ops', 'board-password') },
    ];
    for (const { path, headers } of pages) {
      const page = await get(`${system.baseUrl}${path}`, headers);
      assert.equal(page.status, 200, path);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src [^;]*'unsafe-inline'/, 'both pages carry inline styles');
      const html = String(page.body);
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      assert.ok(scripts.length > 0, path);
      for (const [, attributes, body] of scripts) {
        const src = /\bsrc="([^"]+)"/.exec(attributes)?.[1];
        if (src) {
          // A script file from this origin, and it is there.
          assert.doesNotMatch(src, /^(https?:)?\/\//, `${path}: ${src} comes from another origin`);
          const base = path === '/docs' ? `${system.baseUrl}/` : `${system.baseUrl}${path}/`;
          const file = await fetch(new URL(src, base), { headers });
          assert.equal(file.status, 200, `${path}: ${src}`);
          await file.arrayBuffer();
        } else {
          // CSP blocks inline code, not inline data.
          assert.match(attributes, /type="application\/json"/, `${path}: an inline script CSP would block`);
          assert.doesNotThrow(() => JSON.parse(body), path);
        }
      }
      assert.doesNotMatch(html, /\son[a-z]+="/i, `${path}: an inline event handler (script-src-attr 'none')`);
    }
  });

  test('CORS: a preflight for the inference route with Authorization and Content-Type is allowed for a configured origin, refused for another', async () => {
    const preflight = (origin: string) =>
      fetch(`${system.baseUrl}/v2/models/${MODEL}/infer`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    const refused = await preflight('https://evil.example.net');
    assert.equal(refused.headers.get('access-control-allow-origin'), null, 'no CORS grant for an origin not listed');

    // The request itself: the origin is granted and the binary-framing header is readable.
    const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, digitBody(), { ...bearer(KEY_A), origin: ALLOWED_ORIGIN });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /Inference-Header-Content-Length/);
  });

  test('the OpenAPI document: a bearer scheme on every keyed route, with 401 and 429; none on health', async () => {
    const doc = (await get(`${system.baseUrl}/docs-json`)).body;
    assert.deepEqual({ type: doc.components.securitySchemes.api_key.type, scheme: doc.components.securitySchemes.api_key.scheme }, { type: 'http', scheme: 'bearer' });
    const openPaths = ['/v2/health/live', '/v2/health/ready', '/v2/models/{name}/ready'];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        if (openPaths.includes(path)) {
          assert.deepEqual(op.security, [], `${method} ${path}`);
        } else {
          assert.deepEqual(op.security, [{ api_key: [] }], `${method} ${path}`);
          assert.ok(op.responses['401'] && op.responses['429'], `${method} ${path}`);
        }
        assert.equal(op['x-outlet-open-access'], undefined, 'the internal mark is not published');
      }
    }
  });

  test('the gateway says keys are required, and never prints them', () => {
    const lines = system.gateway.lines();
    assert.ok(lines.some((l) => l.includes('API keys required (2 accepted)')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes(KEY_A) || l.includes(KEY_B)));
  });
});

describe('rate limits (OUTLET_RATE_LIMIT per OUTLET_RATE_WINDOW_MS)', () => {
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({ quiet: true, env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' }, nodes: [{ nodeId: 'edge-limits' }] });
  });

  after(async () => {
    await system?.stop();
  });

  test('per key: past the limit 429 with Retry-After; another key and health are not held back; gRPC shares the budget', async () => {
    const { gateway, baseUrl, grpcAddress } = await extraGateway(system.redisUrl, {
      OUTLET_API_KEYS: `${KEY_A},${KEY_B}`,
      OUTLET_RATE_LIMIT: '3',
      OUTLET_RATE_WINDOW_MS: '60000',
    });
    try {
      // Different routes share one budget per key.
      for (const path of ['/v2', `/v2/models/${MODEL}`, '/v2/models/stats']) {
        const res = await get(`${baseUrl}${path}`, bearer(KEY_A));
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get('x-ratelimit-limit'), '3');
      }
      const limited = await post(`${baseUrl}/v2/models/${MODEL}/infer`, digitBody(), bearer(KEY_A));
      assert.equal(limited.status, 429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers.get('retry-after')}`);
      assert.match(limited.body.error, /^rate limit exceeded: more than 3 requests in 60000 ms from this API key; retry after \d+ s$/);
      assert.equal((await post(`${baseUrl}/v2/models/${MODEL}/infer`, digitBody(), bearer(KEY_B))).status, 200, 'key B has its own budget');
      for (let i = 0; i < 5; i++) assert.equal((await get(`${baseUrl}/v2/health/ready`)).status, 200, 'health is never limited');
      // A refused key does not spend anyone's budget: 401 comes first.
      assert.equal((await get(`${baseUrl}/v2`, bearer('not-a-key-0123456789'))).status, 401);

      // gRPC counts against the same budgets: key A is spent, key B has one request left.
      const client = new (loadGrpcInferenceService())(grpcAddress, grpc.credentials.createInsecure());
      try {
        await assert.rejects(call(client, 'ServerMetadata', {}, grpcAuth(`Bearer ${KEY_A}`)), (err: grpc.ServiceError) => {
          assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
          assert.match(err.details, /^rate limit exceeded: more than 3 requests in 60000 ms from this API key; retry after \d+ s$/);
          return true;
        });
        assert.equal((await call(client, 'ServerMetadata', {}, grpcAuth(`Bearer ${KEY_B}`))).name, 'outlet');
        assert.equal((await get(`${baseUrl}/v2`, bearer(KEY_B))).status, 200, 'key B: the third request of three');
        assert.equal((await get(`${baseUrl}/v2`, bearer(KEY_B))).status, 429, 'key B: HTTP and gRPC together spent it');
        for (let i = 0; i < 5; i++) assert.deepEqual(await call(client, 'ServerLive', {}), { live: true }, 'gRPC health is never limited');
      } finally {
        client.close();
      }
    } finally {
      await gateway.stop();
    }
  });

  test('without keys: per client address, and the gateway warns that the API is open', async () => {
    const { gateway, baseUrl, grpcAddress } = await extraGateway(system.redisUrl, { OUTLET_RATE_LIMIT: '2', OUTLET_RATE_WINDOW_MS: '60000' });
    const client = new (loadGrpcInferenceService())(grpcAddress, grpc.credentials.createInsecure());
    try {
      assert.equal((await get(`${baseUrl}/v2`)).status, 200);
      assert.equal((await call(client, 'ServerMetadata', {})).name, 'outlet');
      const limited = await get(`${baseUrl}/v2`);
      assert.equal(limited.status, 429, 'one budget for this address over HTTP and gRPC');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.match(limited.body.error, /from this client/);
      await assert.rejects(call(client, 'ModelMetadata', { name: MODEL }), (err: grpc.ServiceError) => err.code === grpc.status.RESOURCE_EXHAUSTED && /from this client/.test(err.details));
      assert.ok(gateway.lines().some((l) => /the API is open to anyone who can reach it: set OUTLET_API_KEYS/.test(l)), gateway.lines().join('\n'));
    } finally {
      client.close();
      await gateway.stop();
    }
  });

  test('off by default: no rate-limit headers, no 429', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await get(`${system.baseUrl}/v2`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-ratelimit-limit'), null);
    }
  });
});

describe('Redis with a password', () => {
  const PASSWORD = 'p4ss-w0rd-for-the-private-redis';
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-password' }],
      redis: { args: ['--requirepass', PASSWORD], url: (port) => `redis://:${PASSWORD}@127.0.0.1:${port}` },
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('the whole system serves an inference and an asynchronous job', async () => {
    const answer = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, digitBody());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.parameters.label, '7');
    const job = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...digitBody() });
    assert.equal(job.status, 202);
    const done = await waitForJob(system.baseUrl, job.body.id);
    assert.equal(done.state, 'completed');
    assert.equal(done.result.parameters.label, '7');
    for (const p of system.processes()) {
      assert.ok(p.lines().length > 0);
      assert.ok(!p.lines().some((l) => l.includes(PASSWORD)), `${p.spec.name} printed the password`);
    }
  });

  test('a wrong or missing password stops the gateway at start with a message naming REDIS_URL, without the password', async () => {
    const wrong = 'not-the-password-42';
    const withWrong = await failedGateway(`redis://:${wrong}@127.0.0.1:${system.privateRedis!.port}`);
    assert.equal(withWrong.code, 1);
    assert.match(withWrong.output, /gateway: Redis at REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ does not answer \(WRONGPASS/);
    assert.ok(!withWrong.output.includes(wrong), withWrong.output);
    const without = await failedGateway(`redis://127.0.0.1:${system.privateRedis!.port}`);
    assert.equal(without.code, 1);
    assert.match(without.output, /REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ does not answer \(NOAUTH/);
  });

  test('a REDIS_URL that is not a URL is refused without printing the password in it', async () => {
    const bad = await failedGateway(`redis//:${PASSWORD}@127.0.0.1:6379`);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /bad setting: REDIS_URL='redis\/\/:\*\*\*@127.0.0.1:6379' is not a URL/);
    assert.ok(!bad.output.includes(PASSWORD));
  });
});

/** Debian's redis-server 7.0 is built with TLS; a CA and a server certificate for 127.0.0.1 are made here. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') };
  const caKey = join(dir, 'ca-key.pem');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'ext.cnf');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', files.ca, '-days', '1', '-subj', '/CN=outlet-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', csr, '-subj', '/CN=127.0.0.1');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${ext}'`]);
  openssl('x509', '-req', '-in', csr, '-CA', files.ca, '-CAkey', caKey, '-CAcreateserial', '-out', files.cert, '-days', '1', '-extfile', ext);
  return files;
}

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

describe('Redis over TLS (rediss://), the CA given with NODE_EXTRA_CA_CERTS', { skip: hasOpenssl ? false : 'openssl is not installed' }, () => {
  const PASSWORD = 'tls-and-a-password-too';
  let dir: string;
  let certs: { ca: string; cert: string; key: string };
  let system: OutletSystem;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outlet-tls-'));
    certs = makeCertificates(dir);
    const port = await freePort();
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', NODE_EXTRA_CA_CERTS: certs.ca },
      nodes: [{ nodeId: 'edge-tls' }],
      redis: {
        port,
        // TLS only: the plain port is closed (0), the TLS port is the one the URL names.
        args: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no', '--requirepass', PASSWORD],
        url: (p) => `rediss://:${PASSWORD}@127.0.0.1:${p}`,
      },
    });
  });

  after(async () => {
    await system?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the whole system serves an inference and an asynchronous job over TLS', async () => {
    assert.match(system.redisUrl, /^rediss:/);
    const answer = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, digitBody());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.parameters.label, '7');
    const job = await post(`${system.baseUrl}/v1/jobs`, { model: MODEL, ...digitBody() });
    const done = await waitForJob(system.baseUrl, job.body.id);
    assert.equal(done.state, 'completed');
    assert.equal((await get(`${system.baseUrl}/v2/health/ready`)).status, 200);
  });

  test('without the CA the gateway stops at start, naming REDIS_URL and the certificate problem', async () => {
    const url = `rediss://:${PASSWORD}@127.0.0.1:${system.privateRedis!.port}`;
    const failed = await failedGateway(url);
    assert.equal(failed.code, 1);
    assert.match(failed.output, /REDIS_URL=rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ does not answer \(.*certificate/);
    assert.ok(!failed.output.includes(PASSWORD));
  });

  test('plain redis:// to the TLS port fails at start too', async () => {
    const failed = await failedGateway(`redis://:${PASSWORD}@127.0.0.1:${system.privateRedis!.port}`);
    assert.equal(failed.code, 1);
    assert.match(failed.output, /REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ does not answer/);
  });
});
