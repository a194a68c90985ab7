// onnxruntime's share of the trunk worker's memory, in process: branchy-bench's trunk sessions
// (4 segments + 4 fused segment+head, as the trunk worker loads them, 1 thread, CPU) under
// variants of the session options, each in a fresh child process, the variants alternating.
// glibc's malloc (MALLOC_MMAP_THRESHOLD_ fixed, which stops its dynamic threshold) is varied too.
// Per variant: RSS after loading, after the first task of every plan (each session's first run),
// after 200 more tasks, and 5 s later; and the time of one task (4 fused calls, like `serial`
// without an exit) p50 over the 200, and its CPU time (user + system: steadier than wall time on a
// shared machine).
// Run after `npm run build`: node scripts/ort-memory.js [rounds=2]
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// Session options, and glibc's malloc tuning (read at process start, so set for the child).
const FIXED_MMAP = { MALLOC_MMAP_THRESHOLD_: '131072' };
const VARIANTS = {
  'default': { options: {} },
  'no arena': { options: { enableCpuMemArena: false } },
  'no mem pattern': { options: { enableMemPattern: false } },
  'fixed mmap threshold': { options: {}, env: FIXED_MMAP },
  'no arena, fixed mmap': { options: { enableCpuMemArena: false }, env: FIXED_MMAP },
};
const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;

async function child(options) {
  const ort = require('onnxruntime-node');
  const inference = require('../dist/libs/inference/src');
  const { loadModelPackage } = require('../dist/libs/model-package/src');
  // The trunk's own options, plus the variant's.
  const create = ort.InferenceSession.create.bind(ort.InferenceSession);
  ort.InferenceSession.create = (what, opts) => create(what, { ...opts, ...options });
  const pkg = loadModelPackage(join(__dirname, '..', 'models', 'branchy-bench'));
  const out = { start: rssMb() };
  const model = await inference.MultiExitModel.load(pkg, 'cpu', 1, { segments: true, exits: 'none', fused: true });
  out.loaded = rssMb();
  const input = { data: new Float32Array(112 * 112).fill(0.5), dims: [1, 1, 112, 112] };
  const task = async (fused) => {
    let f = input;
    for (let s = 0; s < 4; s++) f = fused ? (await model.runSegmentWithExit(s, f)).feature : await model.runSegment(s, f);
  };
  await task(false);
  await task(true);
  out.firstRuns = rssMb();
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await task(i % 2 === 0);
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  out.cpuMsPerTask = (cpu.user + cpu.system) / 1000 / 200;
  out.after200 = rssMb();
  await new Promise((r) => setTimeout(r, 5000));
  out.idle5s = rssMb();
  times.sort((a, b) => a - b);
  out.taskMsP50 = times[100];
  process.stdout.write(JSON.stringify(out));
}

if (process.env.ORT_MEMORY_OPTIONS) {
  child(JSON.parse(process.env.ORT_MEMORY_OPTIONS)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const rounds = Number(process.argv[2] ?? 2);
  const rows = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, { options, env }] of Object.entries(VARIANTS)) {
      const res = spawnSync(process.execPath, [__filename], { env: { ...process.env, ...env, ORT_MEMORY_OPTIONS: JSON.stringify(options) }, encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`${name}: ${res.stderr}`);
      (rows[name] ??= []).push(JSON.parse(res.stdout));
    }
  }
  console.log('variant                   | RSS MB: start  loaded  first runs  after 200  idle 5 s | task ms p50 | CPU ms/task');
  for (const [name, list] of Object.entries(rows)) {
    for (const o of list) {
      console.log(`${name.padEnd(25)} | ${[o.start, o.loaded, o.firstRuns, o.after200, o.idle5s].map((v) => v.toFixed(1).padStart(7)).join(' ')} | ${o.taskMsP50.toFixed(2).padStart(11)} | ${o.cpuMsPerTask.toFixed(2)}`);
    }
  }
}
