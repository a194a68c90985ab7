import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EXIT_OFF, LiveThresholds } from '@outlet/contracts';
import { ModelPackage, loadModelPackage } from '@outlet/model-package';
import { stageTimes } from '@outlet/predictor';
import { PlanSelector } from '../../apps/trunk-worker/src/plan-selector.service';

/**
 * `auto` follows the live thresholds: the trunk makes its plan table again from the package's
 * profile when the tuner changes them. branchy-mnist's shipped table places both heads inline
 * (exit 0 answers 93 % of clean digits); once the tuner has switched the early exits off, an
 * inline head is pure cost and the plan must skip it.
 */
const pkg = loadModelPackage(join(__dirname, '..', '..', '..', 'models', 'branchy-mnist'));
const live = (over: Partial<LiveThresholds>): LiveThresholds => ({ version: 1, thresholds: [0.75, 0.55, 0], auditRate: 0.05, updatedAt: 0, windowSince: 0, reason: 'test', ...over });

function selector(): PlanSelector {
  const transport = { waitingTasks: async () => 0, branchWorkers: async () => [] };
  return new PlanSelector(new Map<string, ModelPackage>([['branchy-mnist', pkg]]), { ep: 'cpu' } as any, { threads: 1 } as any, transport as any);
}

test('PlanSelector.followThresholds: exits switched off are skipped; exits that leave again are placed again', () => {
  const plans = selector();
  try {
    assert.deepEqual(plans.choose('branchy-mnist').plan, ['trunk', 'trunk'], 'the shipped table');
    plans.followThresholds('branchy-mnist', live({ version: 1 }));
    assert.deepEqual(plans.choose('branchy-mnist').plan, ['trunk', 'trunk'], 'version 1 without measured probabilities: the shipped table stands');

    plans.followThresholds('branchy-mnist', live({ version: 2, thresholds: [EXIT_OFF, EXIT_OFF, 0], exitProbabilities: [0, 0] }));
    assert.deepEqual(plans.choose('branchy-mnist').plan, ['skip', 'skip'], 'no early exit leaves: no head is worth running');

    plans.followThresholds('branchy-mnist', live({ version: 3, thresholds: [0.9, EXIT_OFF, 0], exitProbabilities: [0.9, 0] }));
    assert.equal(plans.choose('branchy-mnist').plan[0] !== 'skip', true, 'exit 0 leaves 90 % of the time again: its head is placed');
    assert.equal(plans.choose('branchy-mnist').plan[1], 'skip', 'exit 1 is still off');
  } finally {
    plans.onApplicationShutdown();
  }
});

test('PlanSelector: segments and branch heads observed beyond OUTLET_REPLAN_RATIO of their stage times make the plans again, once, and say why', () => {
  const transport = { waitingTasks: async () => 0, branchWorkers: async () => [] };
  const plans = new PlanSelector(new Map<string, ModelPackage>([['branchy-mnist', pkg]]), { ep: 'cpu' } as any, { threads: 1, branchThreads: 1, replanRatio: 1.5 } as any, transport as any);
  try {
    const times = stageTimes(pkg, 'cpu', 0);
    // Within the bound (the load moves the assumed times a little: 1.1× of the idle ones stays inside).
    for (let i = 0; i < 60; i++) plans.observeSegment('branchy-mnist', 1, false, times.segments[1] * 1.1);
    assert.equal(plans.lastReplan('branchy-mnist'), undefined, 'nothing beyond the bound');
    for (let i = 0; i < 60; i++) plans.observeSegment('branchy-mnist', 1, false, times.segments[1] * 10);
    const first = plans.lastReplan('branchy-mnist');
    assert.match(first?.reason ?? '', /segment 1 ran \d+\.\d+× what its plans assumed/);
    // Judged again against the scaled times: the same slowness is no news.
    for (let i = 0; i < 60; i++) plans.observeSegment('branchy-mnist', 1, false, times.segments[1] * 10);
    assert.equal(plans.lastReplan('branchy-mnist'), first, 'no second re-plan for the same slowness');

    const beat = (at: number, ms: number) => ({ at, threads: 1, heartbeatMs: 2000, headMs: { 'branchy-mnist': { 0: new Array(10).fill(ms) } } });
    (plans as any).observeBeat(42, beat(1, times.branchHeads[0] * 5));
    (plans as any).observeBeat(42, beat(1, times.branchHeads[0] * 5));
    assert.equal(plans.lastReplan('branchy-mnist'), first, 'one beat (read twice: taken once) is 10 runs, fewer than judged (20)');
    (plans as any).observeBeat(42, beat(2, times.branchHeads[0] * 5));
    assert.match(plans.lastReplan('branchy-mnist')?.reason ?? '', /head on the branch worker 0 ran \d+\.\d+×/);
  } finally {
    plans.onApplicationShutdown();
  }
});
