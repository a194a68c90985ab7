// Resident memory (VmRSS) of each Outlet process around bursts of concurrent requests on
// branchy-bench: fresh (no task run yet), after a warm-up that runs every plan (so every session
// has run once), at each burst's peak (sampled every 50 ms) and some seconds after it; and the
// latency of sequential requests before and after the bursts.
// Extra environment goes to every process, e.g. MALLOC_ARENA_MAX=2 node scripts/memory-burst.js.
// Run after `npm run build`: node scripts/memory-burst.js [concurrent=200] [bursts=3] [settle_s=10]
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { OutletSystem } = require('../dist/libs/supervisor/src');
const { heldOutDigit, upscaleNearest } = require('../dist/libs/bench/src');

const CONCURRENT = Number(process.argv[2] ?? 200);
const BURSTS = Number(process.argv[3] ?? 3);
const SETTLE_S = Number(process.argv[4] ?? 10);

const rssMb = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return NaN;
  }
};

(async () => {
  const system = await OutletSystem.start({
    quiet: true,
    env: { OUTLET_MODELS_DIR: join(__dirname, '..', 'models'), OUTLET_TRUNK_EP: 'cpu' },
    gatewayEnv: { OUTLET_MAX_QUEUED: '0', OUTLET_INFER_TIMEOUT_MS: '120000' },
    nodes: [{ nodeId: 'mem' }],
  });
  const procs = { gateway: system.gateway.pid, trunk: system.nodes[0].trunk.pid, branch: system.nodes[0].branch.pid };
  const sample = () => Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, rssMb(pid)]));
  const show = (label, s) => console.log(`${label.padEnd(26)} ${Object.entries(s).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('  ')} MB`);
  const url = `${system.baseUrl}/v2/models/branchy-bench/infer`;
  const bodies = Array.from({ length: 10 }, (_, d) =>
    JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32', data: Array.from(upscaleNearest(heldOutDigit(d, 0), 28, 4)) }] }),
  );
  const infer = async (i) => {
    const res = await fetch(url, { method: 'POST', body: bodies[i % 10], headers: { 'content-type': 'application/json' } });
    if (res.status !== 200) throw new Error(`request ${i}: ${res.status} ${await res.text()}`);
    return (await res.json()).parameters.total_ms;
  };
  const sequential = async (label) => {
    const ms = [];
    for (let i = 0; i < 60; i++) ms.push(await infer(i));
    const s = ms.slice(10).sort((a, b) => a - b);
    console.log(`${label}: sequential total_ms p50 ${s[Math.floor(s.length / 2)].toFixed(2)} mean ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)} (n=${s.length})`);
  };
  const sequentialPlan = async (plan) => {
    for (let i = 0; i < 10; i++) {
      const body = JSON.parse(bodies[i]);
      body.parameters = { plan };
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      if (res.status !== 200) throw new Error(`${plan}: ${res.status}`);
    }
  };
  const settle = (s) => new Promise((r) => setTimeout(r, s * 1000));

  await settle(2);
  show('fresh', sample());
  await sequential('warm-up');
  for (const plan of ['serial', 'parallel', 'full']) await sequentialPlan(plan);
  await settle(2);
  show('after warm-up', sample());
  for (let b = 1; b <= BURSTS; b++) {
    const peak = sample();
    const timer = setInterval(() => {
      for (const [k, v] of Object.entries(sample())) peak[k] = Math.max(peak[k], v);
    }, 50);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => infer(i)));
    const burstS = (performance.now() - t0) / 1000;
    clearInterval(timer);
    show(`burst ${b} peak (${burstS.toFixed(1)} s)`, peak);
    await settle(SETTLE_S);
    show(`burst ${b} +${SETTLE_S} s`, sample());
  }
  await sequential('after the bursts');
  await system.stop();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
