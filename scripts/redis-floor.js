// The two Redis hops every synchronous task makes, bare, on this machine: the queue hop (a
// "gateway" process stores a 112x112 FP32 input and adds a BullMQ job → a "trunk" process's
// BullMQ worker starts it, as Outlet's queue_ms counts it) and the answer hop (the trunk PUBLISHes a
// small answer → the gateway's subscriber hears it, as delivery_ms counts it, less the model
// thread's hand-back). Pinned like `npm run bench` on 2 cores: trunk on core 0, gateway and Redis on
// core 1; each task waits `--wait` ms in the trunk, as a model would, so every hop starts idle.
// Run after `npm run build`: node scripts/redis-floor.js [--n 200] [--wait 25]
const { fork, execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { Queue, Worker } = require('bullmq');
const Redis = require('ioredis');

const now = () => performance.timeOrigin + performance.now();
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const pin = (pid, cpus) => execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
const connection = (url) => ({ host: '127.0.0.1', port: Number(new URL(url).port), maxRetriesPerRequest: null });

if (process.argv[2] === 'trunk') {
  // The trunk's side: take the job, read its input, wait like a model, publish the answer.
  const url = process.argv[3];
  const redis = new Redis(url);
  const worker = new Worker(
    'floor',
    async (job) => {
      const startedAt = now();
      await redis.getBuffer(job.data.key);
      await new Promise((r) => setTimeout(r, job.data.wait));
      await redis.publish('answers', JSON.stringify({ id: job.id, startedAt, publishedAt: now(), probabilities: new Array(10).fill(0.1) }));
    },
    { connection: connection(url) },
  );
  worker.on('ready', () => process.send('ready'));
} else {
  (async () => {
    const n = Number(arg('n', '200'));
    const wait = Number(arg('wait', '25'));
    const { startPrivateRedis } = require('../dist/libs/supervisor/src');
    const redisServer = await startPrivateRedis({ cpus: '1' });
    pin(process.pid, '1');
    const trunk = fork(__filename, ['trunk', redisServer.url]);
    pin(trunk.pid, '0');
    await new Promise((r) => trunk.once('message', r));
    const redis = new Redis(redisServer.url);
    const subscriber = new Redis(redisServer.url);
    const queue = new Queue('floor', { connection: connection(redisServer.url) });
    const heard = new Map();
    subscriber.on('message', (_channel, text) => {
      const at = now();
      const m = JSON.parse(text);
      heard.get(m.id)?.({ ...m, heardAt: at });
    });
    await subscriber.subscribe('answers');
    const input = Buffer.alloc(112 * 112 * 4, 1);
    const queueHop = [];
    const answerHop = [];
    for (let i = 0; i < n + 20; i++) {
      const id = `t${i}`;
      const answered = new Promise((resolve) => heard.set(id, resolve));
      const enqueuedAt = now();
      const stored = redis.set(`input:${id}`, input, 'PX', 60_000);
      await queue.add('task', { key: `input:${id}`, wait, enqueuedAt }, { jobId: id, priority: 100, removeOnComplete: true });
      await stored;
      const m = await answered;
      if (i >= 20) {
        queueHop.push(m.startedAt - enqueuedAt);
        answerHop.push(m.heardAt - m.publishedAt);
      }
    }
    const q = (v, p) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) * p)];
    console.log(`the Redis hops of one task, bare (n=${n}, ${wait} ms in the trunk; trunk on core 0, this "gateway" and Redis on core 1):`);
    console.log(`  queue hop  (input SET + BullMQ add → the trunk's worker starts it): p50 ${q(queueHop, 0.5).toFixed(3)} ms, p90 ${q(queueHop, 0.9).toFixed(3)} ms`);
    console.log(`  answer hop (PUBLISH in the trunk → heard by the gateway's subscriber): p50 ${q(answerHop, 0.5).toFixed(3)} ms, p90 ${q(answerHop, 0.9).toFixed(3)} ms`);
    trunk.kill();
    await queue.close();
    redis.disconnect();
    subscriber.disconnect();
    await redisServer.server.stop();
    process.exit(0);
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
