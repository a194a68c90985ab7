#!/usr/bin/env node
// The `outlet` command (`npx outlet <command>` in a checkout). A fresh clone has no dist/ until
// the TypeScript is built: build it once first, its output on stderr so that `--json` stays clean.
const { execSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const main = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  console.error('outlet: building the TypeScript first (npm run build) ...');
  execSync('npm run build --silent', { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
}
require(main);
