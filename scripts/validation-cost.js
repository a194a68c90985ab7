#!/usr/bin/env node
// What the gateway's request validation costs, this tree against a baseline commit, side by side in
// one run: decodeInferBody (parse + validate + copy to FP32) on branchy-bench's 112x112 input, as the
// bench's first JSON body (the first held-out 0: 89 KB), as ten JSON bodies (one digit of each class,
// 41-89 KB) and as the binary tensor extension's body. The two implementations
// alternate call by call, so both see the same machine.
//
//   npm run build && node scripts/validation-cost.js --baseline <commit> [--calls 4000]
//
// The baseline is checked out into a temporary worktree that borrows this tree's node_modules, and
// built there (about 15 s).
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync, symlinkSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const baseline = arg('baseline');
const calls = Number(arg('calls', '4000'));
if (!baseline) {
  console.error('usage: node scripts/validation-cost.js --baseline <commit> [--calls N]');
  process.exit(2);
}

const worktree = mkdtempSync(join(tmpdir(), 'outlet-validation-baseline-'));
const git = (...args) => execFileSync('git', ['-C', ROOT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
try {
  git('worktree', 'add', '--detach', worktree, baseline);
  symlinkSync(join(ROOT, 'node_modules'), join(worktree, 'node_modules'));
  const bin = (tool) => join(ROOT, 'node_modules', '.bin', tool);
  execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: worktree, stdio: 'inherit' });
  execFileSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json'], { cwd: worktree, stdio: 'inherit' });
  measure({
    [`baseline ${git('rev-parse', '--short', baseline)}`]: require(join(worktree, 'dist/apps/gateway/src/binary-tensor')),
    [`this tree ${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? '+changes' : ''}`]: require(join(ROOT, 'dist/apps/gateway/src/binary-tensor')),
  });
} finally {
  git('worktree', 'remove', '--force', worktree);
  rmSync(worktree, { recursive: true, force: true });
}

function measure(implementations) {
  const { loadModelPackage } = require(join(ROOT, 'dist/libs/model-package/src'));
  const { heldOutDigit, upscaleNearest } = require(join(ROOT, 'dist/libs/bench/src'));
  const { fp32ToBytes } = require(join(ROOT, 'dist/apps/gateway/src/binary-tensor'));
  const { manifest } = loadModelPackage(join(ROOT, 'models', 'branchy-bench'));
  // One held-out digit of each class, as the bench sends them (FP32 values written out as JSON numbers).
  const digits = Array.from({ length: 10 }, (_, label) => Array.from(upscaleNearest(heldOutDigit(label, 0), 28, 4)));
  const tensor = { name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32' };
  const parameters = { plan: 'auto', threshold: 0.6, priority: 2, timeout: 5_000_000 };
  const json = digits.map((pixels) => Buffer.from(JSON.stringify({ id: 'r1', inputs: [{ ...tensor, data: pixels }], parameters })));
  const header = Buffer.from(JSON.stringify({ id: 'r1', inputs: [{ ...tensor, parameters: { binary_data_size: 112 * 112 * 4 } }], parameters, outputs: [{ name: manifest.output.name, parameters: { binary_data: true } }] }));
  const meanKb = json.reduce((sum, b) => sum + b.byteLength, 0) / json.length / 1000;
  const bodies = {
    [`JSON body, the bench's first (a held-out 0, ${(json[0].byteLength / 1000).toFixed(0)} KB)`]: [[json[0], undefined]],
    [`JSON bodies (10 digits, ${meanKb.toFixed(0)} KB on average)`]: json.map((body) => [body, undefined]),
    [`binary body (${header.byteLength} B JSON + ${112 * 112 * 4} B)`]: digits.map((pixels) => [Buffer.concat([header, fp32ToBytes(pixels)]), String(header.byteLength)]),
  };
  console.log(`decodeInferBody on ${manifest.name}, ${calls} calls each after ${calls / 4} warm-up, alternating; node ${process.version}, ${require('node:os').cpus()[0].model}`);
  for (const [bodyName, variants] of Object.entries(bodies)) {
    const names = Object.keys(implementations);
    const times = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = -calls / 4; i < calls; i++) {
      const [body, headerLength] = variants[(i + calls) % variants.length];
      for (const name of i % 2 ? names : [...names].reverse()) {
        const t0 = process.hrtime.bigint();
        implementations[name].decodeInferBody(body, headerLength, manifest);
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        if (i >= 0) times[name].push(us);
      }
    }
    console.log(bodyName);
    const p = (a, q) => a[Math.min(a.length - 1, Math.floor(q * a.length))];
    const rows = names.map((name) => {
      const sorted = times[name].sort((a, b) => a - b);
      return { name, p50: p(sorted, 0.5), p99: p(sorted, 0.99) };
    });
    for (const r of rows) console.log(`  ${r.name.padEnd(28)} p50 ${r.p50.toFixed(1).padStart(7)} µs   p99 ${r.p99.toFixed(1).padStart(7)} µs`);
    console.log(`  this tree / baseline: p50 ${(rows[1].p50 / rows[0].p50).toFixed(2)}×, p99 ${(rows[1].p99 / rows[0].p99).toFixed(2)}×`);
  }
}
