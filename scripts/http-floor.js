// What one HTTP exchange between two processes costs on this machine, with the benchmark's own
// request bodies (branchy-bench, 112x112 FP32 as JSON) and client: a bare node:http server in a
// process of its own (pinned like the bench's gateway) parses the body and answers a small JSON
// object, either at once or after waiting as long as a task takes. The wait is measured inside
// the server and subtracted, so what is left is the exchange alone: the floor under Outlet's
// "system overhead" (e2e p50 − in-process p50), before any queue, Redis or worker.
// Run after `npm run build`: node scripts/http-floor.js [--cpus 1] [--waits 0,25,55] [--n 200]
const { spawn, execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const http = require('node:http');
const { loadModelPackage } = require('../dist/libs/model-package/src');
const { heldOutRequests } = require('../dist/libs/bench/src');
const { encodeBodies } = require('../dist/libs/bench/src/http-driver');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const cpus = arg('cpus', '1');
const waits = arg('waits', '0,25,55').split(',').map(Number);
const n = Number(arg('n', '200'));

const SERVER = `
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const wait = Number(req.headers['x-wait'] || 0);
    const from = performance.now();
    const answer = () => {
      res.setHeader('x-waited', String(performance.now() - from));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: body.id, outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 10], data: new Array(10).fill(0.1) }], parameters: {} }));
    };
    wait > 0 ? setTimeout(answer, wait) : answer();
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

(async () => {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
  const pkg = loadModelPackage(join(__dirname, '..', 'models', 'branchy-bench'));
  const m = pkg.manifest;
  const bodies = encodeBodies(heldOutRequests(m, 50), [1, ...m.input.shape.slice(1)], m.input.name, { plan: 'full' });
  const server = spawn('taskset', ['-c', cpus, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const agent = new http.Agent({ keepAlive: true });
  const post = (body, wait) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request(`http://127.0.0.1:${port}/`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-wait': String(wait) } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve(performance.now() - started - Number(res.headers['x-waited']));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  const times = new Map(waits.map((w) => [w, []]));
  for (let i = 0; i < 20; i++) await post(bodies[i % bodies.length], 0);
  // Waits interleaved request by request, so drift falls on all of them alike.
  for (let i = 0; i < n; i++) {
    const order = i % 2 ? [...waits].reverse() : waits;
    for (const w of order) times.get(w).push(await post(bodies[i % bodies.length], w));
  }
  server.kill();
  const q = (v, p) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) * p)];
  console.log(`one HTTP exchange between two processes on cores ${cpus}, ${Buffer.byteLength(bodies[0])}-byte JSON bodies, n=${n} per wait (the wait itself subtracted):`);
  for (const w of waits) console.log(`  server answers after ${String(w).padStart(3)} ms: p50 ${q(times.get(w), 0.5).toFixed(3)} ms, p90 ${q(times.get(w), 0.9).toFixed(3)} ms`);
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
