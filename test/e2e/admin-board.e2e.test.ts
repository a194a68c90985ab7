import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManagedProcess, OutletSystem, appEntry, freePort } from '@outlet/supervisor';
import { MODELS_DIR } from '../support/direct';
import { get } from '../support/http';

const USER = 'ops';
const PASSWORD = 'correct horse battery staple';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('Bull Board at /admin/queues', () => {
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      gatewayEnv: { OUTLET_ADMIN_USER: USER, OUTLET_ADMIN_PASSWORD: PASSWORD },
      nodes: [{ nodeId: 'edge-board' }],
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('answers 401 without or with wrong credentials, on the page and on its API', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const none = await get(`${system.baseUrl}${path}`);
      assert.equal(none.status, 401, path);
      assert.match(none.headers.get('www-authenticate') ?? '', /Basic/);
      assert.equal((await get(`${system.baseUrl}${path}`, basic(USER, 'wrong'))).status, 401, path);
    }
  });

  test('answers 200 with credentials and shows the inference queue and the node\'s branch queue', async () => {
    const page = await get(`${system.baseUrl}/admin/queues`, basic(USER, PASSWORD));
    assert.equal(page.status, 200);
    assert.match(String(page.body), /<html/i);
    const api = await get(`${system.baseUrl}/admin/queues/api/queues`, basic(USER, PASSWORD));
    assert.equal(api.status, 200);
    const names = api.body.queues.map((q: { name: string }) => q.name);
    assert.ok(names.includes('outlet-infer-branchy-mnist'), names.join(', '));
    assert.ok(names.includes('outlet-branch-edge-board'), names.join(', '));
  });

  test('without credentials configured the board is off: 404', async () => {
    const port = await freePort();
    const gateway = new ManagedProcess({
      name: 'gateway-no-board',
      command: process.execPath,
      args: [appEntry('gateway')],
      env: { REDIS_URL: system.redisUrl, PORT: String(port), OUTLET_GRPC_PORT: '0', OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_ADMIN_USER: '', OUTLET_ADMIN_PASSWORD: '' },
      readyPattern: /serving .* API http/,
      onLine: null,
    });
    try {
      await gateway.ready;
      assert.ok(gateway.lines().some((l) => /Bull Board is off: set OUTLET_ADMIN_USER/.test(l)), 'the gateway logs why');
      assert.equal((await get(`http://127.0.0.1:${port}/admin/queues`)).status, 404);
      assert.equal((await get(`http://127.0.0.1:${port}/admin/queues`, basic(USER, PASSWORD))).status, 404);
    } finally {
      await gateway.stop();
    }
  });
});
