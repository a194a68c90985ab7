#!/usr/bin/env node
// Runs the compiled tests with Node's test runner, one file at a time (end-to-end tests start
// real processes and share two cores), and ends with one line: "N passed, N failed".
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const dirs = process.argv.slice(2);
const targets = (dirs.length ? dirs : ['test/unit', 'test/e2e']).map((d) => join('dist', d));
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...targets], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('exit', (code) => {
  const count = (name) => Number((tail.match(new RegExp(`ℹ ${name} (\\d+)`)) || [])[1] || 0);
  console.log(`${count('pass')} passed, ${count('fail') + count('cancelled')} failed`);
  process.exit(code ?? 1);
});
