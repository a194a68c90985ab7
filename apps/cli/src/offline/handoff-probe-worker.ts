// The branch side of `outlet transfer`, forked as its own process like a real branch worker:
// a BullMQ Worker on the probe's branch queue takes each subjob and takes its feature the way the
// branch worker's BranchTransport does — a /dev/shm file read and removed (takeFeatureFile), or a
// Redis value in one MULTI (answer-key EXISTS, GET, DEL) — then tells the parent (IPC) when it
// held the Float32Array. On request it also claims answers (libs/transport claimAnswer: SET NX +
// PUBLISH to the gateway's answer channel and the node's trunk channel, as a confident head does),
// to time the answer path (decision → answer heard).
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { BranchJobData, answerChannel, answerKey, bufferToFloat32, buildAnswer, earlyExitChannel, nowMs } from '@outlet/contracts';
import { queueOptions } from '@outlet/config';
import { claimAnswer, createRedisClient, featureFilePath, takeFeatureFile } from '@outlet/transport';

export type ProbeParentMessage =
  | { type: 'ping' }
  | { type: 'claim'; gatewayId: string; nodeId: string; count: number; gapMs: number }
  | { type: 'stop' };

export type ProbeChildMessage =
  | { type: 'ready' }
  | { type: 'pong'; t: number }
  | { type: 'held'; id: string; pickedAt: number; heldAt: number; values: number }
  | { type: 'claimed'; won: number }
  | { type: 'error'; message: string };

const redisUrl = process.env.PROBE_REDIS_URL!;
const queueName = process.env.PROBE_QUEUE!;
const featureDir = process.env.PROBE_FEATURE_DIR!;
const send = (m: ProbeChildMessage) => process.send?.(m);

async function takeFeature(redis: Redis, d: BranchJobData): Promise<Float32Array | undefined> {
  if (d.feature.transport === 'shm') return takeFeatureFile(featureFilePath(featureDir, d.feature.file));
  const key = d.feature.key;
  const [[, answered], [, bytes]] = (await redis.multi().exists(answerKey(d.taskId)).getBuffer(key).del(key).exec()) as [
    [Error | null, number],
    [Error | null, Buffer | null],
  ];
  return answered || !bytes ? undefined : bufferToFloat32(bytes);
}

async function main(): Promise<void> {
  const redis = createRedisClient(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<BranchJobData>(
    queueName,
    async (job) => {
      const pickedAt = nowMs();
      const d = job.data;
      const feature = await takeFeature(redis, d);
      if (!feature) throw new Error(`feature ${JSON.stringify(d.feature)} missing`);
      const heldAt = nowMs();
      send({ type: 'held', id: d.taskId, pickedAt, heldAt, values: feature.length });
      return { values: feature.length };
    },
    { ...queueOptions(queueName, redisUrl), concurrency: 1 },
  );
  worker.on('failed', (_job, err) => send({ type: 'error', message: err.message }));
  await worker.waitUntilReady();

  process.on('message', async (m: ProbeParentMessage) => {
    if (m.type === 'ping') send({ type: 'pong', t: nowMs() });
    else if (m.type === 'claim') {
      // A confident head's answer, the size of a real one (10 classes), claimed as BranchTransport.claim does.
      const probabilities = Array.from({ length: 10 }, (_, i) => (i === 3 ? 0.91 : 0.01));
      const model = { name: 'transfer-probe', version: '1', exitCount: 4, output: { name: 'probabilities', datatype: 'FP32' } };
      const channels = [answerChannel(m.gatewayId), earlyExitChannel(m.nodeId)];
      let won = 0;
      for (let i = 0; i < m.count; i++) {
        const taskId = `probe-answer-${process.pid}-${i}`;
        const context = { requestId: taskId, replyTo: m.gatewayId, trunkEp: 'cpu', plan: ['branch' as const], planSource: 'request' as const, queueMs: 0, thresholdVersion: 1 };
        const answer = buildAnswer(taskId, model, context, 'probe', { exitIndex: 0, probabilities, confidence: 0.91, worker: 'branch', decidedAt: nowMs() });
        if ((await claimAnswer(redis, answer, channels)).won) won++;
        await new Promise((r) => setTimeout(r, m.gapMs));
      }
      send({ type: 'claimed', won });
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
