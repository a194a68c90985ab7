// What admission control adds to the gateway's enqueue: GatewayTransport.enqueue (input value + job)
// on a private Redis, three variants interleaved, p50 and p99 per enqueue over 3000 rounds:
//   plain     no priority, no bound (the code before admission control)
//   priority  a BullMQ priority (every task has one now)
//   bounded   a priority and OUTLET_MAX_QUEUED (the waiting count read first, one script call)
// Then: how many of 100 enqueues issued at once get past a bound of 10 (the count and the add are
// two steps). Input: 112x112 FP32 (branchy-bench, 50 KB). Run after `npm run build`: node scripts/admission-cost.js
require('reflect-metadata');
const Redis = require('ioredis').default;
const { Queue } = require('bullmq');
const { randomUUID } = require('node:crypto');
const { startPrivateRedis } = require('../dist/libs/supervisor/src');
const { inputKey, nowMs } = require('../dist/libs/contracts/src');
const { GatewayTransport } = require('../dist/apps/gateway/src/gateway-transport.service');

const ROUNDS = Number(process.argv[2] ?? 3000);
(async () => {
  const server = await startPrivateRedis({ quiet: true });
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const queue = new Queue('outlet-infer-cost', { connection: redis });
  const transport = new GatewayTransport({ get: () => queue }, redis);
  const input = new Float32Array(112 * 112).fill(0.5);
  const variants = {
    plain: { retention: 1000, priority: undefined, maxQueued: 0 },
    priority: { retention: 1000, priority: 100, maxQueued: 0 },
    bounded: { retention: 1000, priority: 100, maxQueued: 1_000_000 },
  };
  const times = { plain: [], priority: [], bounded: [] };
  const names = Object.keys(variants);
  for (let round = 0; round < ROUNDS + 100; round++) {
    if (round % 500 === 0) await queue.drain(); // keep the queue at a few hundred waiting tasks, as under load
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      const taskId = randomUUID();
      const data = { model: 'cost', requestId: taskId, input: { name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32', key: inputKey(taskId) }, plan: 'serial', planSource: 'request', enqueuedAt: nowMs() };
      const t0 = performance.now();
      await transport.enqueue(taskId, data, input, variants[name]);
      if (round >= 100) times[name].push(performance.now() - t0);
    }
  }
  const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.floor(a.length * p)].toFixed(3);
  for (const name of names) console.log(`${name.padEnd(9)} enqueue p50 ${pct(times[name], 0.5)} ms  p99 ${pct(times[name], 0.99)} ms  (n=${times[name].length})`);
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) await queue.count();
  console.log(`queue.count() alone: ${((performance.now() - t0) / 1000).toFixed(3)} ms per call, ${await queue.count()} tasks waiting`);
  // How far concurrent admissions overshoot the bound: 100 enqueues at once against a bound of 10.
  await queue.drain();
  await redis.del(...(await redis.keys('outlet:input:*')));
  const results = await Promise.all(
    Array.from({ length: 100 }, () => {
      const taskId = randomUUID();
      const data = { model: 'cost', requestId: taskId, input: { name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32', key: inputKey(taskId) }, plan: 'serial', planSource: 'request', enqueuedAt: nowMs() };
      return transport.enqueue(taskId, data, input, { retention: 1000, priority: 100, maxQueued: 10 });
    }),
  );
  console.log(`100 concurrent enqueues, bound 10: ${results.filter((r) => r.queued).length} queued, ${await queue.count()} waiting, ${(await redis.keys('outlet:input:*')).length - (await queue.count())} stray inputs`);
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
  await server.server.stop();
})().catch((e) => { console.error(e); process.exit(1); });
