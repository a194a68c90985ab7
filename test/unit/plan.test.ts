import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanError, formatPlan, parsePlan } from '@outlet/contracts';

test('presets expand to one placement per early exit', () => {
  assert.deepEqual(parsePlan('serial', 2), ['trunk', 'trunk']);
  assert.deepEqual(parsePlan('parallel', 3), ['branch', 'branch', 'branch']);
  assert.deepEqual(parsePlan('full', 2), ['skip', 'skip']);
});

test('a comma list is taken as written, spaces allowed', () => {
  assert.deepEqual(parsePlan('branch, trunk,skip', 3), ['branch', 'trunk', 'skip']);
  assert.equal(formatPlan(['branch', 'skip']), 'branch,skip');
});

test('unknown placements and wrong lengths are refused with the reason', () => {
  assert.throws(() => parsePlan('branch,gpu', 2), (e: Error) => e instanceof PlanError && /unknown plan or placement 'gpu'/.test(e.message));
  assert.throws(() => parsePlan('fastest', 2), /unknown plan or placement 'fastest'/);
  assert.throws(() => parsePlan('branch', 2), /has 1 placement\(s\) but the model has 2 early exit\(s\)/);
  assert.throws(() => parsePlan('', 2), /unknown plan or placement ''/);
});
