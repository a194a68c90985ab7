import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuMonitor, processTicks, readCpuTimes, utilizationBeside, utilizationBetween } from '@outlet/edge-node';

test('/proc/stat lines are read as busy and total jiffies', () => {
  const t = readCpuTimes('cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 1 2 3 4');
  assert.deepEqual(t, { busy: 160, total: 1000 });
});

test('utilization is the busy share of the time between readings, clamped', () => {
  assert.equal(utilizationBetween({ busy: 100, total: 1000 }, { busy: 150, total: 1100 }), 0.5);
  assert.equal(utilizationBetween({ busy: 100, total: 1000 }, { busy: 100, total: 1000 }), 0);
});

// Two cores for 1 s: 200 ticks in all. `own` is the observing process's (the trunk's) CPU time.
const at0 = { busy: 0, total: 0, own: 0 };

test('the load beside the observer leaves its own time out of busy and total', () => {
  // The trunk holds one core; a background load takes every other cycle: nothing is left beside it.
  assert.equal(utilizationBeside(at0, { busy: 200, total: 200, own: 100 }), 1);
  // The same load while the trunk rests: the machine-wide reading, as the profiler measures it.
  assert.equal(utilizationBeside(at0, { busy: 200, total: 200, own: 0 }), 1);
  // The trunk holds half a core and others a core: 100 of the 150 ticks it left were taken.
  assert.ok(Math.abs(utilizationBeside(at0, { busy: 150, total: 200, own: 50 }) - 2 / 3) < 1e-12);
  // Only the trunk is busy: nothing beside it.
  assert.equal(utilizationBeside(at0, { busy: 100, total: 200, own: 100 }), 0);
  // Taking own time out of busy only would have read 0.5, 1, 0.5 and 0 for these four.
});

test('with no own time the load beside is the machine-wide utilization', () => {
  const a = { busy: 100, total: 1000, own: 0 };
  const b = { busy: 150, total: 1100, own: 0 };
  assert.equal(utilizationBeside(a, b), utilizationBetween(a, b));
});

test('the load beside is clamped and safe at the edges', () => {
  assert.equal(utilizationBeside(at0, at0), 0, 'no time passed');
  assert.equal(utilizationBeside(at0, { busy: 200, total: 200, own: 200 }), 1, 'the observer had every cycle');
  // Tick counts and process.cpuUsage() disagree by a tick now and then.
  assert.equal(utilizationBeside(at0, { busy: 100, total: 200, own: 102 }), 0);
  assert.equal(utilizationBeside(at0, { busy: 200, total: 200, own: 201 }), 1);
  assert.equal(utilizationBeside({ busy: 0, total: 0, own: 5 }, { busy: 50, total: 200, own: 3 }), 0.25, 'own time never runs backwards');
});

test('the monitor reads the real /proc/stat', () => {
  const monitor = new CpuMonitor();
  const u = monitor.sample() + monitor.sample();
  assert.ok(u >= 0 && u <= 2);
});

test('a monitor that excludes itself reads the real /proc/stat as well', () => {
  const monitor = new CpuMonitor({ excludeSelf: true });
  const end = Date.now() + 30;
  monitor.sample();
  while (Date.now() < end) {
    // busy ourselves: our own time must not show up as load
  }
  const u = monitor.sample();
  assert.ok(u >= 0 && u <= 1);
});

test('processTicks reads utime + stime after the command name, spaces and parentheses included', () => {
  const stat = '4242 (node (branch) worker) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
  assert.equal(processTicks(4242, () => stat), 1234 + 567);
  assert.equal(processTicks(4242, () => { throw new Error('ENOENT'); }), 0, 'a process that is gone counts nothing');
});
