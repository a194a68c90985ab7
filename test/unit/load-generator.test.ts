import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadGenerator } from '@outlet/profiler';

test('the load generator starts one busy loop per thread, retargets, and stops', async () => {
  const load = new LoadGenerator({ threads: 1, periodMs: 5 });
  assert.throws(() => load.start(1.5), /between 0 and 1/);
  load.start(0.2);
  assert.equal(load.target, 0.2);
  load.start(0.3);
  assert.equal(load.target, 0.3);
  await new Promise((r) => setTimeout(r, 20));
  await load.stopAndWait();
  assert.equal(load.target, 0);
  load.start(0); // no workers at 0
  await load.stopAndWait();
});
