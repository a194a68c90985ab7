import { ChildProcess, fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { BranchJobData, HANDOFF_TTL_MS, JobName, answerChannel, branchQueueName, earlyExitChannel, featureKey, float32ToBuffer, nowMs } from '@outlet/contracts';
import { queueOptions } from '@outlet/config';
import { HANDOFF_TRANSPORTS, HandoffCost, HandoffTransport, TransferFile, TransferPoint, fitLinear } from '@outlet/planner';
import { startPrivateRedis } from '@outlet/supervisor';
import { createRedisClient, defaultFeatureRoot, featureFileName, nodeFeatureDir, parseAnswerMessage, writeFeatureFile } from '@outlet/transport';
import type { ProbeChildMessage } from './handoff-probe-worker';

export interface ProbeOptions {
  sizes: number[];
  reps: number;
  warmup: number;
  /** Pause before each hand-off (ms). */
  gapMs: number;
  notifyReps: number;
  /** Transports measured, side by side (default: every one the workers have). */
  transports?: HandoffTransport[];
  /** Root of the nodes' shared-memory feature folders (default: the workers' default, /dev/shm/outlet). */
  featureRoot?: string;
  /** Use this Redis instead of a private redis-server. */
  redisUrl?: string;
  log?: (line: string) => void;
}

/** One transport's fitted hand-off, and the points it was fitted to. */
export interface TransportMeasurement {
  cost: HandoffCost;
  fit: TransferFile['fit'];
  points: TransferFile['points'];
}

/** transfer.json (version 2) plus what the answer path showed besides the gateway's channel. */
export type ProbeResult = TransferFile & {
  version: 2;
  notify: TransferFile['notify'] & { trunk_p50_ms?: number; trunk_p90_ms?: number };
};

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Measure the trunk → branch hand-off through each of the workers' transports, on a private
 * redis-server, side by side: per round, every (size, transport) pair once, in a new random order.
 * The trunk side hands the feature over as TrunkTransport does — `shm`: the feature written to a
 * file in the node's /dev/shm folder (writeFeatureFile) and a subjob naming it; `redis`: SET PX
 * and a subjob naming the key — and a BullMQ Worker in a child process takes the subjob and the
 * feature as BranchTransport does (takeFeatureFile / one MULTI). Hand-off time = from before the
 * write to the child holding the Float32Array (clocks: performance.timeOrigin + now(), shared by
 * the host's processes; the offset is checked by IPC ping). Trunk cost = the write (file write,
 * or SET round trip) + the synchronous part of queue.add().
 *
 * Then the answer path: the child claims answers as a confident branch head does (claimAnswer:
 * SET NX + PUBLISH on the gateway's answer channel and the node's trunk channel); this process
 * subscribes like the gateway and the trunk. notify = decision (before the claim) → the answer
 * heard on the gateway's channel; the trunk's channel is reported beside it.
 */
export async function measureHandoff(options: ProbeOptions): Promise<ProbeResult> {
  const log = options.log ?? (() => undefined);
  const transports = options.transports ?? [...HANDOFF_TRANSPORTS];
  const priv = options.redisUrl ? undefined : await startPrivateRedis();
  const url = options.redisUrl ?? priv!.url;
  const nodeId = `transfer-probe-${process.pid}`;
  const gatewayId = `transfer-probe-gw-${process.pid}`;
  const queueName = branchQueueName(nodeId);
  const featureDir = nodeFeatureDir(options.featureRoot ?? defaultFeatureRoot(), nodeId);
  const redis = createRedisClient(url, { maxRetriesPerRequest: null });
  const sub = redis.duplicate();
  const queue = new Queue<BranchJobData>(queueName, queueOptions(queueName, url));
  let child: ChildProcess | undefined;
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    child = fork(join(__dirname, 'handoff-probe-worker.js'), [], {
      env: { ...process.env, PROBE_REDIS_URL: url, PROBE_QUEUE: queueName, PROBE_FEATURE_DIR: featureDir },
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

    // Sizes and transports interleaved round after round, in a new random order each round, so
    // that other load on the machine (it varies over seconds) and the after-effects of a big
    // hand-off (GC, Redis freeing memory) hit every size and transport alike; a pause between
    // hand-offs lets those settle, as segment work does between a real trunk's hand-offs.
    // Warm-up rounds come first.
    const features = options.sizes.map((bytes) => {
      const feature = new Float32Array(bytes / 4);
      for (let i = 0; i < feature.length; i++) feature[i] = Math.random();
      return feature;
    });
    const pairs = transports.flatMap((transport) => options.sizes.map((_, k) => ({ transport, k })));
    const samples = new Map(pairs.map((p) => [`${p.transport}:${p.k}`, { handoff: [] as number[], trunk: [] as number[], pickup: [] as number[] }]));
    let seq = 0;
    let seed = 20261126;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < options.warmup + options.reps; round++) {
      const order = pairs.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const { transport, k } of order) {
        await new Promise((r) => setTimeout(r, options.gapMs));
        const values = features[k];
        const taskId = `probe-${seq++}`;
        const held = next(`held:${taskId}`);
        const handedOffAt = nowMs();
        let ref: BranchJobData['feature'];
        if (transport === 'shm') {
          // As the trunk's model thread writes it, then TrunkTransport.handOff queues the subjob.
          const file = featureFileName(taskId, 0);
          writeFeatureFile(join(featureDir, file), values);
          ref = { transport: 'shm', file };
        } else {
          ref = { transport: 'redis', key: featureKey(taskId, 0) };
          await redis.set(ref.key, float32ToBuffer(values), 'PX', HANDOFF_TTL_MS);
        }
        const data: BranchJobData = {
          taskId,
          model: 'transfer-probe',
          exitIndex: 0,
          feature: ref,
          featureShape: [1, values.length],
          threshold: 0.5,
          trunkNodeId: nodeId,
          handedOffAt,
          task: { requestId: taskId, trunkEp: 'cpu', plan: ['branch'], planSource: 'request', queueMs: 0, thresholdVersion: 1 },
        };
        const added = queue.add(JobName.ExitHead, data, { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } });
        const trunkDone = nowMs();
        const m = (await wait(held)) as { pickedAt: number; heldAt: number; values: number };
        await added;
        if (m.values !== values.length) throw new Error(`branch probe read ${m.values} values, not ${values.length}`);
        if (round >= options.warmup) {
          const x = samples.get(`${transport}:${k}`)!;
          x.handoff.push(m.heldAt - handedOffAt);
          x.trunk.push(trunkDone - handedOffAt);
          x.pickup.push(m.pickedAt - handedOffAt);
        }
      }
    }

    const byTransport = {} as Partial<Record<HandoffTransport, TransportMeasurement>>;
    for (const transport of transports) {
      log(`${transport}:`);
      const points: TransferPoint[] = options.sizes.map((bytes, k) => {
        const x = samples.get(`${transport}:${k}`)!;
        const [handoff, trunk, pickup] = [x.handoff, x.trunk, x.pickup].map((xs) => xs.sort((a, b) => a - b));
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
        log(`  ${String(bytes).padStart(9)} B  hand-off p50 ${point.p50_ms.toFixed(3)} ms (mean ${point.mean_ms.toFixed(3)}, p90 ${point.p90_ms.toFixed(3)})  trunk p50 ${point.trunk_p50_ms.toFixed(3)} ms  (worker picked the job at p50 ${point.pickup_p50_ms!.toFixed(3)} ms)`);
        return point;
      });
      const transferFit = fitLinear(points.map((p) => ({ x: p.bytes, y: p.p50_ms })));
      const trunkFit = fitLinear(points.map((p) => ({ x: p.bytes, y: p.trunk_p50_ms })));
      byTransport[transport] = {
        // A fixed cost below zero is a fit artefact (the smallest sizes are noise-bound): the planner wants >= 0.
        cost: {
          transfer: { fixed_ms: Math.max(0, r4(transferFit.fixed)), per_byte_ms: Math.max(0, transferFit.slope) },
          trunk: { fixed_ms: Math.max(0, r4(trunkFit.fixed)), per_byte_ms: Math.max(0, trunkFit.slope) },
        },
        fit: { transfer_r2: r4(transferFit.r2), trunk_r2: r4(trunkFit.r2), fitted_on: 'p50 per size' },
        points: points.map((p) => {
          const predicted = transferFit.fixed + transferFit.slope * p.bytes;
          return { ...p, predicted_ms: r4(predicted), relative_error: r4((p.p50_ms - predicted) / p.p50_ms) };
        }),
      };
    }

    // The answer path: a confident head's claim in the child, heard here as the gateway (its answer
    // channel) and the trunk (the node's channel) hear it.
    const heard = { gateway: [] as number[], trunk: [] as number[] };
    const gatewayChannel = answerChannel(gatewayId);
    sub.on('message', (channel: string, text: string) => {
      const at = nowMs();
      const message = parseAnswerMessage(text);
      if (!message?.answer) return;
      (channel === gatewayChannel ? heard.gateway : heard.trunk).push(at - message.answer.decidedAt);
    });
    await sub.subscribe(gatewayChannel, earlyExitChannel(nodeId));
    child.send({ type: 'claim', gatewayId, nodeId, count: options.notifyReps + 10, gapMs: 1 });
    const claimed = (await wait(next('claimed'))) as { won: number };
    await new Promise((r) => setTimeout(r, 20));
    if (claimed.won !== options.notifyReps + 10) log(`answer path: only ${claimed.won} of ${options.notifyReps + 10} claims won`);
    const notifySorted = heard.gateway.slice(10).sort((a, b) => a - b);
    const trunkSorted = heard.trunk.slice(10).sort((a, b) => a - b);
    if (notifySorted.length === 0) throw new Error('no claimed answer reached the subscriber');

    const main: HandoffTransport = transports.includes('shm') ? 'shm' : transports[0];
    const primary = byTransport[main]!;
    const cpu = cpus();
    const method =
      'sizes and transports interleaved, a new random order each round, a pause before each hand-off, warm-up rounds first; ' +
      'hand-off = before the trunk-side write (shm: writeFeatureFile in the node\'s /dev/shm folder; redis: SET PX) to a BullMQ worker in another process holding the Float32Array ' +
      '(subjob added as TrunkTransport.handOff does, feature taken as BranchTransport.takeFeature does: takeFeatureFile, or one MULTI EXISTS/GET/DEL); ' +
      'trunk = write (+ SET round trip) + synchronous queue.add(); fit: least squares on the per-size medians, weighted 1/y^2 (relative error); ' +
      'notify = a branch decision (before claimAnswer: SET NX + PUBLISH to the gateway and trunk channels) to the answer heard on the gateway\'s channel';
    return {
      kind: 'outlet-transfer',
      version: 2,
      created_at: new Date().toISOString(),
      host: {
        cpu: cpu[0]?.model ?? 'unknown',
        cores: cpu.length,
        node: process.version,
        redis: `${redisVersion}${options.redisUrl ? ' (given REDIS_URL)' : ' (private redis-server, loopback)'}`,
        feature_dir: options.featureRoot ?? defaultFeatureRoot(),
        clock_offset_ms: r4(offset.ms),
        clock_offset_uncertainty_ms: r4(offset.rtt / 2),
      },
      method,
      model: {
        transfer: primary.cost.transfer,
        trunk: primary.cost.trunk,
        notify_ms: r4(quantile(notifySorted, 0.5)),
        transport: main,
        transports: Object.fromEntries(transports.map((t) => [t, byTransport[t]!.cost])),
      },
      fit: primary.fit,
      points: primary.points,
      notify: {
        reps: notifySorted.length,
        p50_ms: r4(quantile(notifySorted, 0.5)),
        mean_ms: r4(mean(notifySorted)),
        p90_ms: r4(quantile(notifySorted, 0.9)),
        ...(trunkSorted.length ? { trunk_p50_ms: r4(quantile(trunkSorted, 0.5)), trunk_p90_ms: r4(quantile(trunkSorted, 0.9)) } : {}),
      },
      by_transport: Object.fromEntries(transports.map((t) => [t, { fit: byTransport[t]!.fit, points: byTransport[t]!.points }])),
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
    rmSync(featureDir, { recursive: true, force: true });
    await queue.close().catch(() => undefined);
    await sub.quit().catch(() => undefined);
    await redis.quit().catch(() => undefined);
    await priv?.server.stop();
  }
}
