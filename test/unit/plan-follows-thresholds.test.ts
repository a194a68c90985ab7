import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EXIT_OFF, LiveThresholds } from '@outlet/contracts';
import { ModelPackage, loadModelPackage } from '@outlet/model-package';
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
  const transport = { waitingTasks: async () => 0, branchWorkerPids: async () => [] };
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
