import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { seededRandom } from '@outlet/onnx-cost';
import { OutletSystem, appEntry } from '@outlet/supervisor';
import { heldOutDigit, inferBody } from '../support/digits';
import { MODELS_DIR } from '../support/direct';
import { get, post } from '../support/http';
import { parsePrometheusText, sumOf } from '../support/prom-text';

/**
 * Online exit thresholds on real processes: branchy-mnist, every answered task audited
 * (OUTLET_AUDIT_RATE=1) so that the tuner hears within a few dozen tasks. The drift fixture is
 * held-out digits under heavy Gaussian noise (σ 0.5), where the offline thresholds let early
 * exits answer against the final exit's judgement about a third of the time.
 */
const MODEL = 'branchy-mnist';
const NOISE_SIGMA = 0.5;

function noisyDigit(i: number, rng: () => number): number[] {
  return heldOutDigit(i % 10, Math.floor(i / 10)).map((v) => {
    // Box-Muller: one normal sample per pixel.
    const n = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    return Math.min(1, Math.max(0, v + NOISE_SIGMA * n));
  });
}

async function thresholdsOf(baseUrl: string): Promise<any> {
  const res = await get(`${baseUrl}/v1/models/${MODEL}/thresholds`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Send noisy digits one after another until `done` holds for the thresholds, or fail after `max` tasks. */
async function driftUntil(system: OutletSystem, done: (t: any) => boolean, max: number, answers: any[] = []): Promise<any> {
  const rng = seededRandom(7);
  for (let i = 0; i < max; i++) {
    const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(noisyDigit(i, rng), { plan: 'serial' }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    answers.push(res.body.parameters);
    if (i % 10 === 9) {
      const t = await thresholdsOf(system.baseUrl);
      if (done(t)) return t;
    }
  }
  assert.fail(`not within ${max} noisy tasks: ${JSON.stringify(await thresholdsOf(system.baseUrl))}`);
}

describe('online thresholds: a drift raises them, the fleet shares one version (two nodes)', () => {
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_AUDIT_RATE: '1', OUTLET_ADAPT: 'on', OUTLET_TRUNK_THREADS: '1', OUTLET_BRANCH_THREADS: '1' },
      nodes: [{ nodeId: 'thr-a' }, { nodeId: 'thr-b' }],
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('version 1 is the offline calibration; noisy digits raise the thresholds, with the reason and the window in the history', async () => {
    const start = await thresholdsOf(system.baseUrl);
    assert.equal(start.version, 1);
    assert.deepEqual(start.thresholds, start.offline_thresholds);
    assert.equal(start.history.at(-1).kind, 'start');

    const answers: any[] = [];
    const raised = await driftUntil(system, (t) => t.version > 1, 400, answers);
    const change = raised.history[0];
    assert.equal(change.kind, 'raise', JSON.stringify(change));
    assert.ok(change.thresholds.every((t: number, i: number) => t >= change.previous[i]), `no exit lowered: ${JSON.stringify(change)}`);
    assert.ok(change.thresholds.slice(0, -1).some((t: number, i: number) => t > change.previous[i]), 'some exit raised');
    assert.match(change.reason, /agreement/);
    assert.ok(change.window.records > 0 && change.window.agreement >= 0 && change.window.agreement <= 1, JSON.stringify(change.window));
    assert.ok(raised.window.agreement_by_exit.some((a: any) => a.answered > 0 && a.ratio < 0.99), `the audits saw early answers disagree: ${JSON.stringify(raised.window)}`);
    assert.ok(answers.every((p) => p.threshold_version >= 1), 'every answer says its thresholds version');

    // Visible in the metrics too: exit 0's gauge holds one of the values its history gave it.
    const metrics = parsePrometheusText(String((await get(`${system.baseUrl}/metrics`)).body));
    const exit0 = metrics.samples.find((s) => s.name === 'outlet_exit_threshold' && s.labels.model === MODEL && s.labels.exit === '0');
    const history = (await thresholdsOf(system.baseUrl)).history;
    assert.ok(exit0 && history.some((c: any) => c.thresholds[0] === exit0.value), `outlet_exit_threshold{exit="0"} ${exit0?.value}`);
    assert.ok(metrics.samples.some((s) => s.name === 'outlet_exit_agreement_ratio' && s.labels.model === MODEL), 'agreement gauges');
    assert.ok(sumOf(metrics, 'outlet_audited_tasks_total', { model: MODEL }) > 0, 'audited tasks counted');
    assert.ok(sumOf(metrics, 'outlet_threshold_changes_total', { model: MODEL }) >= 1, 'changes counted');

    // The CLI shows the same version.
    const cli = spawnSync(process.execPath, [appEntry('cli'), 'thresholds', MODEL, '--url', system.baseUrl], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^${MODEL} v1: thresholds v\\d+ \\[`));
    assert.match(cli.stdout, /changes \(newest first\):\n {2}v\d+ \S+ raise: /);
  });

  test('both nodes answer with the one live version once it changed', async () => {
    const live = await thresholdsOf(system.baseUrl);
    // The trunks read the live version every 500 ms: ask until both nodes have answered with it.
    const seen = new Map<string, number>();
    for (let i = 0; i < 200 && !(seen.get('thr-a') === live.version && seen.get('thr-b') === live.version); i++) {
      const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, inferBody(heldOutDigit(i % 10, 30), { plan: 'serial' }));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const p = res.body.parameters;
      assert.ok(p.threshold_version <= (await thresholdsOf(system.baseUrl)).version, 'never a version from the future');
      seen.set(p.node_id, p.threshold_version);
    }
    const now = await thresholdsOf(system.baseUrl);
    assert.equal(seen.get('thr-a'), now.version, `node thr-a answered with v${seen.get('thr-a')}, live v${now.version}`);
    assert.equal(seen.get('thr-b'), now.version, `node thr-b answered with v${seen.get('thr-b')}, live v${now.version}`);
  });
});

describe('OUTLET_ADAPT=off: the same drift never changes the thresholds; the audits still show it', () => {
  let system: OutletSystem;

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu', OUTLET_AUDIT_RATE: '1', OUTLET_ADAPT: 'off' },
      nodes: [{ nodeId: 'thr-static' }],
    });
  });

  after(async () => {
    await system?.stop();
  });

  test('noisy digits, all audited, show early answers disagreeing, and the version stays 1', async () => {
    // Audited disagreement is the event the tuner would act on: wait for that, then check nothing moved.
    const t = await driftUntil(system, (x) => x.window.agreement_by_exit.some((a: any) => a.answered > 0 && a.ratio < 0.9) && x.window.records >= 100, 400);
    assert.equal(t.adapt, false);
    assert.equal(t.version, 1);
    assert.deepEqual(t.thresholds, t.offline_thresholds);
    assert.deepEqual(t.history.map((c: any) => c.kind), ['start']);
  });
});
