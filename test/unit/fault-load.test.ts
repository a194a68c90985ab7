import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AnswerBody, ReferenceAnswers, TaskLoad, heldOutRequests } from '@outlet/bench';
import { loadModelPackage } from '@outlet/model-package';
import { DirectModel, MODELS_DIR } from '../support/direct';

const pkg = loadModelPackage(join(MODELS_DIR, 'branchy-mnist'));
const inputs = heldOutRequests(pkg.manifest, 10).map((r) => r.pixels);
const final = pkg.manifest.exits.length - 1;

describe('the fault tests\' answer check and bookkeeping', () => {
  let reference: ReferenceAnswers;
  /** Per input, per exit: probabilities from the model run directly. */
  let exits: Float32Array[][];

  before(async () => {
    reference = await ReferenceAnswers.compute(pkg, inputs);
    const direct = await DirectModel.open(pkg.dir);
    exits = await Promise.all(inputs.map((p) => direct.allExits(Array.from(p))));
    await direct.release();
  });

  const answer = (i: number, exit: number, requestId: string, taskId = `task-${requestId}`): AnswerBody => {
    const data = Array.from(exits[i][exit]);
    return { id: requestId, outputs: [{ data }], parameters: { exit_index: exit, label: String(data.indexOf(Math.max(...data))), task_id: taskId, exit_worker: 'trunk', node_id: 'n' } };
  };

  test('ReferenceAnswers: the final exit\'s answer is right; altered, misdirected, malformed or unconfident answers are wrong', () => {
    for (let i = 0; i < inputs.length; i++) assert.equal(reference.problem(i, 'r', answer(i, final, 'r')), undefined);
    const altered = answer(0, final, 'r');
    (altered.outputs![0].data as number[])[0] += 0.01;
    assert.match(reference.problem(0, 'r', altered)!, /probability 0/);
    assert.match(reference.problem(0, 'r', answer(0, final, 'other'))!, /request id/);
    assert.match(reference.problem(0, 'r', { id: 'r', outputs: [{ data: [1, 2] }], parameters: { exit_index: final } })!, /malformed/);
    const relabelled = answer(0, final, 'r');
    relabelled.parameters!.label = 'cat';
    assert.match(reference.problem(0, 'r', relabelled)!, /label/);
    const unconfident = inputs.findIndex((_, i) => !reference.eligibleExits(i).includes(0));
    assert.ok(unconfident >= 0, 'some digit leaves exit 0 unconfident');
    assert.match(reference.problem(unconfident, 'r', answer(unconfident, 0, 'r'))!, /may not answer/);
  });

  describe('TaskLoad against a gateway that answers each request as scripted', () => {
    let server: Server;
    let baseUrl = '';
    // Even requests are synchronous, odd ones jobs. Request n (load-n) gets: 0 → 200; 1 → 202, then completed;
    // 2 → 503; 3 → 202, then failed; 4 → 504 naming its task, then completed; 5 → 500; later ones → 200 / 202, then completed.
    const script = (n: number, route: 'sync' | 'async'): { status: number; body: unknown } => {
      const input = n % inputs.length;
      if (n === 2) return { status: 503, body: { error: 'Redis is down' } };
      if (n === 4) return { status: 504, body: { error: `task t${n} did not finish within 30000 ms` } };
      if (n === 5) return { status: 500, body: { error: `task t${n} failed: stalled twice` } };
      return route === 'sync' ? { status: 200, body: answer(input, final, `load-${n}`, `t${n}`) } : { status: 202, body: { id: `t${n}`, state: 'waiting' } };
    };
    const job = (n: number) =>
      n === 3 ? { id: `t${n}`, state: 'failed', error: 'stalled twice' } : { id: `t${n}`, state: 'completed', result: answer(n % inputs.length, final, `load-${n}`, `t${n}`) };

    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          let reply: { status: number; body: unknown };
          const jobId = /^\/v1\/jobs\/t(\d+)$/.exec(req.url ?? '');
          if (req.method === 'GET' && jobId) reply = { status: 200, body: job(Number(jobId[1])) };
          else {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
            reply = script(Number(body.id.slice('load-'.length)), req.url === '/v1/jobs' ? 'async' : 'sync');
          }
          res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => new Promise<void>((r) => server.close(() => r())));

    test('refusals are not accepted; 202 and a 504 naming its task are; a failure is lost; answers are checked', async () => {
      const load = new TaskLoad({
        baseUrl,
        manifest: { name: 'branchy-mnist', input: { name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] } },
        inputs,
        reference,
        ratePerS: 200,
        asyncShare: 0.5,
        plans: ['parallel'],
        pollMs: 10,
        replyTimeoutMs: 5_000,
      });
      load.start();
      assert.ok(await load.waitFor(() => load.records.length >= 8, performance.now() + 5_000));
      assert.ok(await load.drain(performance.now() + 5_000), 'every task settled');
      const routes = load.records.slice(0, 6).map((r) => r.route);
      assert.deepEqual(routes, ['sync', 'async', 'sync', 'async', 'sync', 'async'], 'tasks alternate between /infer and jobs');
      assert.deepEqual(load.records.slice(0, 6).map((r) => r.outcome), ['answered', 'answered', 'refused', 'failed', 'answered', 'refused']);
      const s = load.summary();
      // Request 5 is a job: a 500 to POST /v1/jobs names no accepted task, so it is a refusal.
      assert.equal(s.refused, 2);
      assert.deepEqual(s.refusedBy, { '500': 1, '503': 1 });
      assert.equal(s.accepted, s.sent - 2);
      assert.equal(s.failed, 1);
      assert.equal(s.lost, 1);
      assert.equal(s.wrong, 0);
      assert.equal(s.syncTimeouts, 1);
      assert.equal(load.records[4].taskId, 't4');
    });
  });
});
