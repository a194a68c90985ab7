import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuMonitor, readCpuTimes, utilizationBetween } from '@outlet/edge-node';

test('/proc/stat lines are read as busy and total jiffies', () => {
  const t = readCpuTimes('cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 1 2 3 4');
  assert.deepEqual(t, { busy: 160, total: 1000 });
});

test('utilization is the busy share of the time between readings, clamped', () => {
  assert.equal(utilizationBetween({ busy: 100, total: 1000 }, { busy: 150, total: 1100 }), 0.5);
  assert.equal(utilizationBetween({ busy: 100, total: 1000 }, { busy: 100, total: 1000 }), 0);
});

test('the monitor reads the real /proc/stat', () => {
  const monitor = new CpuMonitor();
  const u = monitor.sample() + monitor.sample();
  assert.ok(u >= 0 && u <= 2);
});
