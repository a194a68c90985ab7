import { ChildProcess, fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { BranchJobData, HANDOFF_TTL_MS, JobName, branchQueueName, earlyExitChannel, featureKey, float32ToBuffer, nowMs } from '@outlet/contracts';
import { bullConnection } from '@outlet/config';
import { TransferFile, TransferPoint, fitLinear } from '@outlet/planner';
import { startPrivateRedis } from '@outlet/supervisor';
import type { ProbeChildMessage } from './handoff-probe-worker';

export interface ProbeOptions {
  sizes: number[];
  reps: number;
  warmup: number;
  /** Pause before each hand-off (ms). */
  gapMs: number;
  notifyReps: number;
  /** Use this Redis instead of a private redis-server. */
  redisUrl?: string;
  log?: (line: string) => void;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Measure the trunk → branch hand-off through the workers' transport, on a private
 * redis-server: per size, `reps` times, the trunk side SETs the feature (PX TTL) and adds a
 * subjob to a branch queue exactly as BranchHandOff does; a BullMQ Worker in a child process
 * takes it and reads the feature as ExitHeadRunner does. Hand-off time = from before the SET to
 * the child holding the Float32Array (clocks: performance.timeOrigin + now(), shared by the
 * host's processes; the offset is checked by IPC ping). Trunk cost = SET round trip + the
 * synchronous part of queue.add(). Then the early-exit event path (PUBLISH → subscriber).
 */
export async function measureHandoff(options: ProbeOptions): Promise<TransferFile> {
  const log = options.log ?? (() => undefined);
  const priv = options.redisUrl ? undefined : await startPrivateRedis();
  const url = options.redisUrl ?? priv!.url;
  const nodeId = `transfer-probe-${process.pid}`;
  const queueName = branchQueueName(nodeId);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const sub = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue<BranchJobData>(queueName, { connection: bullConnection(url) });
  let child: ChildProcess | undefined;
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    child = fork(join(__dirname, 'handoff-probe-worker.js'), [], {
      env: { ...process.env, PROBE_REDIS_URL: url, PROBE_QUEUE: queueName },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const waiters = new Map<string, (m: ProbeChildMessage) => void>();
    const next = (key: string) => new Promise<ProbeChildMessage>((resolve) => waiters.set(key, resolve));
    child.on('message', (m: ProbeChildMessage) => {
      if (m.type === 'error') return log(`branch probe: ${m.message}`);
      const key = m.type === 'held' ? `held:${m.id}` : m.type;
      const w = waiters.get(key);
      waiters.delete(key);
      w?.(m);
    });
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`branch probe exited (code ${code})`))));
    const wait = <T>(p: Promise<T>) => Promise.race([p, exited]);
    await wait(next('ready'));

    // Clock check: NTP-style offset from the fastest of a few IPC round trips.
    let offset = { rtt: Infinity, ms: 0 };
    for (let i = 0; i < 30; i++) {
      const t0 = nowMs();
      child.send({ type: 'ping' });
      const pong = (await wait(next('pong'))) as { t: number };
      const t1 = nowMs();
      if (t1 - t0 < offset.rtt) offset = { rtt: t1 - t0, ms: pong.t - (t0 + t1) / 2 };
    }
    log(`clock offset child - parent: ${offset.ms.toFixed(4)} ms (±${(offset.rtt / 2).toFixed(4)} ms)`);

    // Sizes interleaved round after round, in a new random order each round, so that other load
    // on the machine (it varies over seconds) and the after-effects of a big hand-off (GC, Redis
    // freeing memory) hit every size alike; a pause between hand-offs lets those settle, as
    // segment work does between a real trunk's hand-offs. Warm-up rounds come first.
    const payloads = options.sizes.map((bytes) => {
      const feature = new Float32Array(bytes / 4);
      for (let i = 0; i < feature.length; i++) feature[i] = Math.random();
      return float32ToBuffer(feature);
    });
    const samples = options.sizes.map(() => ({ handoff: [] as number[], trunk: [] as number[], pickup: [] as number[] }));
    let seq = 0;
    let seed = 20261126;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < options.warmup + options.reps; round++) {
      const order = options.sizes.map((_, k) => k);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const k of order) {
        await new Promise((r) => setTimeout(r, options.gapMs));
        const values = options.sizes[k] / 4;
        const taskId = `probe-${seq++}`;
        const key = featureKey(taskId, 0);
        const held = next(`held:${taskId}`);
        const handedOffAt = nowMs();
        await redis.set(key, payloads[k], 'PX', HANDOFF_TTL_MS);
        const data: BranchJobData = {
          taskId,
          model: 'transfer-probe',
          exitIndex: 0,
          feature: { transport: 'redis', key },
          featureShape: [1, values],
          threshold: 0.5,
          trunkNodeId: nodeId,
          handedOffAt,
          task: { requestId: taskId, trunkEp: 'cpu', plan: ['branch'], planSource: 'request', queueMs: 0 },
        };
        const added = queue.add(JobName.ExitHead, data, { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } });
        const trunkDone = nowMs();
        const m = (await wait(held)) as { pickedAt: number; heldAt: number; values: number };
        await added;
        if (m.values !== values) throw new Error(`branch probe read ${m.values} values, not ${values}`);
        if (round >= options.warmup) {
          samples[k].handoff.push(m.heldAt - handedOffAt);
          samples[k].trunk.push(trunkDone - handedOffAt);
          samples[k].pickup.push(m.pickedAt - handedOffAt);
        }
      }
    }
    const points: TransferPoint[] = options.sizes.map((bytes, k) => {
      const [handoff, trunk, pickup] = [samples[k].handoff, samples[k].trunk, samples[k].pickup].map((xs) => xs.sort((a, b) => a - b));
      const point: TransferPoint = {
        bytes,
        reps: options.reps,
        p50_ms: r4(quantile(handoff, 0.5)),
        mean_ms: r4(mean(handoff)),
        p90_ms: r4(quantile(handoff, 0.9)),
        trunk_p50_ms: r4(quantile(trunk, 0.5)),
        trunk_mean_ms: r4(mean(trunk)),
        pickup_p50_ms: r4(quantile(pickup, 0.5)),
      };
      log(`${String(bytes).padStart(9)} B  hand-off p50 ${point.p50_ms.toFixed(3)} ms (mean ${point.mean_ms.toFixed(3)}, p90 ${point.p90_ms.toFixed(3)})  trunk p50 ${point.trunk_p50_ms.toFixed(3)} ms  (worker picked the job at p50 ${point.pickup_p50_ms!.toFixed(3)} ms)`);
      return point;
    });

    // Early-exit event: branch PUBLISH → trunk subscriber.
    const channel = earlyExitChannel(nodeId);
    const notify: number[] = [];
    sub.on('message', (_ch: string, text: string) => notify.push(nowMs() - (JSON.parse(text) as { decidedAt: number }).decidedAt));
    await sub.subscribe(channel);
    child.send({ type: 'publish', channel, count: options.notifyReps + 10, gapMs: 1 });
    await wait(next('published'));
    await new Promise((r) => setTimeout(r, 20));
    const notifySorted = notify.slice(10).sort((a, b) => a - b);
    if (notifySorted.length === 0) throw new Error('no early-exit event reached the subscriber');

    const transferFit = fitLinear(points.map((p) => ({ x: p.bytes, y: p.p50_ms })));
    const trunkFit = fitLinear(points.map((p) => ({ x: p.bytes, y: p.trunk_p50_ms })));
    const cpu = cpus();
    return {
      kind: 'outlet-transfer',
      version: 1,
      created_at: new Date().toISOString(),
      host: {
        cpu: cpu[0]?.model ?? 'unknown',
        cores: cpu.length,
        node: process.version,
        redis: `${redisVersion}${options.redisUrl ? ' (given REDIS_URL)' : ' (private redis-server, loopback)'}`,
        clock_offset_ms: r4(offset.ms),
        clock_offset_uncertainty_ms: r4(offset.rtt / 2),
      },
      method:
        'sizes interleaved, a new random order each round, a pause before each hand-off, warm-up rounds first; hand-off = before the trunk-side SET (PX TTL) to a BullMQ worker in another process holding the Float32Array ' +
        '(job added as BranchHandOff does, feature read as ExitHeadRunner does); trunk = SET round trip + synchronous queue.add(); ' +
        'fit: least squares on the per-size medians, weighted 1/y^2 (relative error)',
      model: {
        transfer: { fixed_ms: r4(transferFit.fixed), per_byte_ms: transferFit.slope },
        trunk: { fixed_ms: r4(trunkFit.fixed), per_byte_ms: trunkFit.slope },
        notify_ms: r4(quantile(notifySorted, 0.5)),
      },
      fit: { transfer_r2: r4(transferFit.r2), trunk_r2: r4(trunkFit.r2), fitted_on: 'p50 per size' },
      points: points.map((p) => {
        const predicted = transferFit.fixed + transferFit.slope * p.bytes;
        return { ...p, predicted_ms: r4(predicted), relative_error: r4((p.p50_ms - predicted) / p.p50_ms) };
      }),
      notify: {
        reps: notifySorted.length,
        p50_ms: r4(quantile(notifySorted, 0.5)),
        mean_ms: r4(mean(notifySorted)),
        p90_ms: r4(quantile(notifySorted, 0.9)),
      },
    };
  } finally {
    if (child && child.exitCode === null) {
      child.send({ type: 'stop' });
      await new Promise((r) => {
        const t = setTimeout(() => (child!.kill(), r(undefined)), 3000);
        child!.once('exit', () => (clearTimeout(t), r(undefined)));
      });
    }
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    await sub.quit().catch(() => undefined);
    await redis.quit().catch(() => undefined);
    await priv?.server.stop();
  }
}
