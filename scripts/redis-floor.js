// The two Redis hops every synchronous task makes, bare, on this machine: the queue hop (a
// "gateway" process stores a 112x112 FP32 input and adds a BullMQ job → a "trunk" process's
// BullMQ worker starts it, as Outlet's queue_ms counts it) and the answer hop (the trunk PUBLISHes a
// small answer → the gateway's subscriber hears it, as delivery_ms counts it, less the model
// thread's hand-back); then the throughput of three models' queues at once (no wait in the trunk,
// 8 tasks in flight per model). Keys, prefixes and clients as Outlet makes them (hash tags, one
// client factory), on one private redis-server or a private cluster (3 masters + 3 replicas).
// Pinned like `npm run bench` on 2 cores: trunk on core 0, gateway and Redis on core 1; each task
// waits `--wait` ms in the trunk, as a model would, so every hop starts idle.
// Run after `npm run build`:
//   node scripts/redis-floor.js [--redis single|cluster] [--n 200] [--wait 25] [--wait-replicas 0]
const { fork, execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { Queue, Worker } = require('bullmq');
const { createRedisClient } = require('../dist/libs/transport/src');
const { queueOptions } = require('../dist/libs/config/src');
const { inputKey } = require('../dist/libs/contracts/src');

const MODELS = ['floor-a', 'floor-b', 'floor-c'];
const now = () => performance.timeOrigin + performance.now();
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const pin = (pid, cpus) => {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset missing or fewer cores: unpinned
  }
};

if (process.argv[2] === 'trunk') {
  // The trunk's side: take a job, read its input, wait like a model, publish the answer.
  const target = process.argv[3];
  const redis = createRedisClient(target);
  const workers = MODELS.map(
    (name) =>
      new Worker(
        name,
        async (job) => {
          const startedAt = now();
          await redis.getBuffer(job.data.key);
          if (job.data.wait) await new Promise((r) => setTimeout(r, job.data.wait));
          await redis.publish('floor-answers', JSON.stringify({ id: job.id, startedAt, publishedAt: now(), probabilities: new Array(10).fill(0.1) }));
        },
        { ...queueOptions(name, target), concurrency: 8 },
      ),
  );
  Promise.all(workers.map((w) => w.waitUntilReady())).then(() => process.send('ready'));
} else {
  (async () => {
    const n = Number(arg('n', '200'));
    const wait = Number(arg('wait', '25'));
    const mode = arg('redis', 'single');
    const replicas = Number(arg('wait-replicas', '0'));
    const { startPrivateRedis, startPrivateCluster } = require('../dist/libs/supervisor/src');
    pin(process.pid, '1');
    const server = mode === 'cluster' ? await startPrivateCluster({ masters: 3, replicas: 1 }) : await startPrivateRedis({ cpus: '1' });
    const target = mode === 'cluster' ? server.target : server.url;
    if (mode === 'cluster') for (const s of server.servers) pin(s.server.pid, '1');
    const trunk = fork(__filename, ['trunk', target]);
    pin(trunk.pid, '0');
    await new Promise((r) => trunk.once('message', r));
    const redis = createRedisClient(target);
    const subscriber = createRedisClient(target);
    const queues = MODELS.map((name) => new Queue(name, queueOptions(name, target)));
    const heard = new Map();
    subscriber.on('message', (_channel, text) => {
      const at = now();
      const m = JSON.parse(text);
      heard.get(m.id)?.({ ...m, heardAt: at });
    });
    await subscriber.subscribe('floor-answers');
    const input = Buffer.alloc(112 * 112 * 4, 1);
    const masters = () => (redis.isCluster ? redis.nodes('master') : [redis]);
    /** One task as the gateway sends it: input, job (input first on a cluster), WAIT if asked; resolves with the trunk's answer. */
    const send = async (queue, id, taskWait) => {
      const answered = new Promise((resolve) => heard.set(id, resolve));
      const enqueuedAt = now();
      const stored = redis.set(inputKey(id), input, 'PX', 60_000);
      if (redis.isCluster) await stored;
      await queue.add('task', { key: inputKey(id), wait: taskWait, enqueuedAt }, { jobId: id, priority: 100, removeOnComplete: true });
      await stored;
      let waitMs = 0;
      if (replicas > 0) {
        const t0 = now();
        await Promise.all(masters().map((m) => m.call('WAIT', replicas, 1000)));
        waitMs = now() - t0;
      }
      const m = await answered;
      heard.delete(id);
      return { ...m, enqueuedAt, waitMs };
    };
    const queueHop = [];
    const answerHop = [];
    const waits = [];
    for (let i = 0; i < n + 20; i++) {
      const m = await send(queues[i % 3], `t${i}`, wait);
      if (i >= 20) {
        queueHop.push(m.startedAt - m.enqueuedAt);
        answerHop.push(m.heardAt - m.publishedAt);
        waits.push(m.waitMs);
      }
    }
    // Throughput: three models at once, 8 tasks in flight each, no wait in the trunk.
    const perModel = Math.max(100, n);
    const started = now();
    await Promise.all(queues.map(async (queue, q) => {
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < perModel) {
          const i = next++;
          await send(queue, `x${q}-${i}`, 0);
        }
      }));
    }));
    const tasksPerS = (3 * perModel) / ((now() - started) / 1000);
    const q = (v, p) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) * p)];
    const f = (v) => `p50 ${q(v, 0.5).toFixed(3)} ms, p99 ${q(v, 0.99).toFixed(3)} ms`;
    const where = mode === 'cluster' ? 'a private cluster of 3 masters + 3 replicas' : 'one private redis-server';
    console.log(`the Redis hops of one task, bare, on ${where} (n=${n}, ${wait} ms in the trunk; trunk on core 0, this "gateway" and Redis on core 1${replicas ? `; WAIT ${replicas} after each task` : ''}):`);
    console.log(`  queue hop  (input SET + BullMQ add → the trunk's worker starts it): ${f(queueHop)}`);
    console.log(`  answer hop (PUBLISH in the trunk → heard by the gateway's subscriber): ${f(answerHop)}`);
    if (replicas) console.log(`  WAIT ${replicas} (every master): ${f(waits)}`);
    console.log(`  throughput, three models at once (8 in flight each, no wait in the trunk): ${tasksPerS.toFixed(0)} tasks/s`);
    trunk.kill();
    await Promise.all(queues.map((queue) => queue.close()));
    redis.disconnect();
    subscriber.disconnect();
    if (mode === 'cluster') await server.stop();
    else await server.server.stop();
    process.exit(0);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
