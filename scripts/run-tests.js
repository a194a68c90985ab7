#!/usr/bin/env node
// Runs the compiled tests with Node's test runner, one file at a time (end-to-end tests start
// real processes and share two cores), and ends with one line: "N passed, N failed".
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const dirs = process.argv.slice(2);
const targets = (dirs.length ? dirs : ['test/unit', 'test/e2e']).map((d) => join('dist', d));
// The systems the tests start keep their exit thresholds fixed and audit nothing unless a test asks:
// the fixtures' exits are not trained to agree with their final exits, and online tuning would
// move thresholds under tests that count on them (test/e2e/thresholds.e2e.test.ts turns it on).
// Nor do their nodes profile themselves on start (a load generator on both cores for seconds) or
// re-plan from what they observe (tests that count on the package's plan table):
// test/e2e/node-profiles.e2e.test.ts turns both on.
// And a cache of their own: this machine's stored profiles and hand-off model (outlet profile,
// outlet transfer) would change the plans of systems that count on their packages' files.
const cacheDir = mkdtempSync(join(tmpdir(), 'outlet-test-cache-'));
const env = { OUTLET_ADAPT: 'off', OUTLET_AUDIT_RATE: '0', OUTLET_SELF_PROFILE: 'off', OUTLET_REPLAN_RATIO: '100', ...process.env, OUTLET_CACHE_DIR: cacheDir };
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...targets], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env,
});
// The runner's own totals ("ℹ pass N" ...), read as they stream by: the list of failing tests
// that follows them can be long.
const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0 };
let partial = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (partial + chunk.toString()).split('\n');
  partial = lines.pop();
  for (const line of lines) {
    const total = /^ℹ (pass|fail|cancelled|skipped) (\d+)$/.exec(line.trim());
    if (total) totals[total[1]] = Number(total[2]);
  }
});
child.on('exit', (code) => {
  rmSync(cacheDir, { recursive: true, force: true });
  // A test that skipped itself (saying why) is neither passed nor failed: name the count so it is seen.
  if (totals.skipped) console.log(`${totals.skipped} skipped (in neither total below)`);
  console.log(`${totals.pass} passed, ${totals.fail + totals.cancelled} failed`);
  process.exit(code ?? 1);
});
