// The branch side of `outlet transfer`, forked as its own process like a real branch worker:
// a BullMQ Worker on the probe's branch queue takes each subjob and reads its feature the way
// the branch worker's ExitHeadRunner does (one MULTI: done-flag GET, feature GET, DEL), then tells
// the parent (IPC) when it held the Float32Array. It also publishes early-exit-sized events on
// request, to time the notify path.
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { BranchJobData, bufferToFloat32, nowMs, answerKey } from '@outlet/contracts';
import { bullConnection } from '@outlet/config';

export type ProbeParentMessage =
  | { type: 'ping' }
  | { type: 'publish'; channel: string; count: number; gapMs: number }
  | { type: 'stop' };

export type ProbeChildMessage =
  | { type: 'ready' }
  | { type: 'pong'; t: number }
  | { type: 'held'; id: string; pickedAt: number; heldAt: number; values: number }
  | { type: 'published' }
  | { type: 'error'; message: string };

const redisUrl = process.env.PROBE_REDIS_URL!;
const queueName = process.env.PROBE_QUEUE!;
const send = (m: ProbeChildMessage) => process.send?.(m);

async function main(): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<BranchJobData>(
    queueName,
    async (job) => {
      const pickedAt = nowMs();
      const d = job.data;
      const key = d.feature.transport === 'redis' ? d.feature.key : '';
      const [[, done], [, bytes]] = (await redis.multi().get(answerKey(d.taskId)).getBuffer(key).del(key).exec()) as [
        [Error | null, string | null],
        [Error | null, Buffer | null],
      ];
      if (done || !bytes) throw new Error(`feature ${key} missing`);
      const feature = bufferToFloat32(bytes);
      const heldAt = nowMs();
      send({ type: 'held', id: d.taskId, pickedAt, heldAt, values: feature.length });
      return { values: feature.length };
    },
    { connection: bullConnection(redisUrl), concurrency: 1 },
  );
  worker.on('failed', (_job, err) => send({ type: 'error', message: err.message }));
  await worker.waitUntilReady();

  process.on('message', async (m: ProbeParentMessage) => {
    if (m.type === 'ping') send({ type: 'pong', t: nowMs() });
    else if (m.type === 'publish') {
      const probabilities = Array.from({ length: 10 }, (_, i) => (i === 3 ? 0.91 : 0.01));
      for (let i = 0; i < m.count; i++) {
        const event = { taskId: `probe-notify-${i}`, exitIndex: 0, exited: true, confidence: 0.91, probabilities, headMs: 0.1, decidedAt: nowMs(), branchNodeId: 'probe' };
        await redis.publish(m.channel, JSON.stringify(event));
        await new Promise((r) => setTimeout(r, m.gapMs));
      }
      send({ type: 'published' });
    } else if (m.type === 'stop') {
      await worker.close();
      await redis.quit();
      process.exit(0);
    }
  });
  send({ type: 'ready' });
}

main().catch((err) => {
  send({ type: 'error', message: (err as Error).message });
  process.exit(1);
});
