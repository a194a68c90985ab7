// What one HTTP exchange between two processes costs on this machine, with the benchmark's own
// request bodies (branchy-bench, 112x112 FP32 as JSON, and the same as the binary tensor data
// extension sends them: a JSON header and raw bytes) and client: a bare node:http server in a
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
    const bytes = Buffer.concat(chunks);
    const headerLength = Number(req.headers['inference-header-content-length'] || bytes.length);
    const body = JSON.parse(bytes.subarray(0, headerLength).toString('utf8'));
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
  const requests = heldOutRequests(m, 50);
  const shape = [1, ...m.input.shape.slice(1)];
  const bodies = encodeBodies(requests, shape, m.input.name, { plan: 'full' }).map((text) => ({ bytes: Buffer.from(text), headers: { 'content-type': 'application/json' } }));
  const binaryBodies = requests.map((r, i) => {
    const header = Buffer.from(JSON.stringify({ id: `bench-${i}`, inputs: [{ name: m.input.name, shape, datatype: 'FP32', parameters: { binary_data_size: r.pixels.byteLength } }], parameters: { plan: 'full' } }));
    const raw = Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.pixels.byteLength);
    return { bytes: Buffer.concat([header, raw]), headers: { 'inference-header-content-length': String(header.length) } };
  });
  const server = spawn('taskset', ['-c', cpus, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const agent = new http.Agent({ keepAlive: true });
  const post = (body, wait) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request(`http://127.0.0.1:${port}/`, { method: 'POST', agent, headers: { ...body.headers, 'content-length': body.bytes.length, 'x-wait': String(wait) } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve(performance.now() - started - Number(res.headers['x-waited']));
        });
      });
      req.on('error', reject);
      req.end(body.bytes);
    });
  const kinds = { json: bodies, binary: binaryBodies };
  const variants = Object.keys(kinds).flatMap((kind) => waits.map((wait) => ({ kind, wait, times: [] })));
  for (let i = 0; i < 20; i++) await post(bodies[i % bodies.length], 0);
  // Variants interleaved request by request, in alternating order, so drift falls on all alike.
  for (let i = 0; i < n; i++) {
    for (const v of i % 2 ? [...variants].reverse() : variants) v.times.push(await post(kinds[v.kind][i % bodies.length], v.wait));
  }
  server.kill();
  const q = (v, p) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) * p)];
  console.log(`one HTTP exchange between two processes on cores ${cpus}, n=${n} per variant (the server's wait subtracted):`);
  for (const v of variants) {
    const size = kinds[v.kind][0].bytes.length;
    console.log(`  ${v.kind.padEnd(6)} (${size} B)  server answers after ${String(v.wait).padStart(3)} ms: p50 ${q(v.times, 0.5).toFixed(3)} ms, p90 ${q(v.times, 0.9).toFixed(3)} ms`);
  }
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
