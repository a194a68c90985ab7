import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { OutletSystem } from '@outlet/supervisor';
import { FIXTURE_MODELS_DIR } from '../support/direct';
import { get, post } from '../support/http';

/**
 * slow-exit ships a hand-written plans.json: parallel up to 60 % CPU, serial above. A real
 * background load (busy processes on every core) must flip `auto` from one to the other.
 */
const body = { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.1) }], parameters: { plan: 'auto' } };

describe('plan=auto follows the node\'s CPU load', () => {
  let system: OutletSystem;
  let load: ChildProcess[] = [];

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-auto' }],
    });
  });

  after(async () => {
    load.forEach((p) => p.kill('SIGKILL'));
    await system?.stop();
  });

  /** Ask with plan=auto until the answer's plan satisfies `want` (the smoothed load needs a moment). */
  const askUntil = async (want: (p: any) => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    let last: any;
    while (Date.now() < deadline) {
      const res = await post(`${system.baseUrl}/v2/models/slow-exit/infer`, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      last = res.body.parameters;
      if (want(last)) return last;
    }
    throw new Error(`${what}: last answer had plan ${last?.plan} at cpu_util ${last?.cpu_util}`);
  };

  test('idle: parallel; under a background load: serial; idle again: parallel', async () => {
    const idle = await askUntil((p) => p.cpu_util <= 0.6, 'the node never looked idle (is something else loading this machine?)');
    assert.equal(idle.plan_source, 'auto');
    assert.equal(idle.plan, 'branch,branch,branch,branch');

    // Two busy processes per core: the trunk leaves its own CPU time out of the reading, and it is
    // busy serving these very requests.
    load = [...cpus(), ...cpus()].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    const loaded = await askUntil((p) => p.cpu_util > 0.6, 'the background load never showed');
    assert.equal(loaded.plan_source, 'auto');
    assert.equal(loaded.plan, 'trunk,trunk,trunk,trunk');
    const decision = await get(`${system.baseUrl}/v1/models/slow-exit/plan?cpu_util=0.9`);
    assert.equal(decision.status, 200);
    assert.equal(decision.body.plan, 'trunk,trunk,trunk,trunk');

    load.forEach((p) => p.kill('SIGKILL'));
    load = [];
    const again = await askUntil((p) => p.cpu_util <= 0.6, 'the load never went away');
    assert.equal(again.plan, 'branch,branch,branch,branch');
  });

  test('GET /v1/models/{name}/plan answers the table\'s decision and refuses bad input', async () => {
    const low = await get(`${system.baseUrl}/v1/models/slow-exit/plan?cpu_util=0.2`);
    assert.equal(low.status, 200);
    assert.equal(low.body.plan, 'branch,branch,branch,branch');
    assert.equal(low.body.cpu_util, 0.2);
    assert.equal((await get(`${system.baseUrl}/v1/models/slow-exit/plan?cpu_util=2`)).status, 400);
    assert.equal((await get(`${system.baseUrl}/v1/models/slow-head/plan`)).status, 404, 'no plan table');
    assert.equal((await get(`${system.baseUrl}/v1/models/nope/plan`)).status, 404);
    const live = await get(`${system.baseUrl}/v1/models/slow-exit/plan`);
    assert.equal(live.status, 200);
    assert.match(live.body.cpu_util_source, /live node/);
  });
});
