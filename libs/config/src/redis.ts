import { ConnectionOptions, QueueBaseOptions } from 'bullmq';
import { queuePrefix } from '@outlet/contracts';
import { maskRedisUrl } from './env';
import { RedisTarget, createRedisClient, parseRedisTarget, redisAddress, sentinelOptions } from '@outlet/transport';

/**
 * BullMQ connection options for a target (BullMQ needs maxRetriesPerRequest null for workers):
 * options for one server or a Sentinel set; for a cluster, a Cluster client of its own (BullMQ
 * takes one as its connection and duplicates it where it blocks). BullMQ does not close a client
 * it was given: `queue.disconnect()` after `queue.close()` does.
 */
export function bullConnection(target: RedisTarget): ConnectionOptions {
  const t = parseRedisTarget(target);
  if (t.mode === 'cluster') {
    // The Queue or Worker reports its own errors; a cluster that is away must not print a stack per retry.
    const cluster = createRedisClient(target, { maxRetriesPerRequest: null });
    cluster.on('error', () => undefined);
    return cluster;
  }
  if (t.mode === 'sentinel') return { ...sentinelOptions(t), maxRetriesPerRequest: null };
  return { host: t.nodes[0].host, port: t.nodes[0].port, db: t.db, username: t.username, password: t.password, tls: t.tls ? {} : undefined, maxRetriesPerRequest: null };
}

/** A Queue, Worker or QueueEvents of `queueName` on the target: its connection and its hash-tagged prefix (queuePrefix). */
export function queueOptions(queueName: string, target: RedisTarget): QueueBaseOptions & { connection: ConnectionOptions; prefix: string } {
  return { connection: bullConnection(target), prefix: queuePrefix(queueName) };
}

/** Why Redis at the target does not answer a PING, or undefined when it does. */
export async function redisProblem(target: RedisTarget): Promise<string | undefined> {
  const probe = createRedisClient(target, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5_000 });
  // The cause (a wrong password, a TLS failure, a refused connection) comes as an 'error' event;
  // the command itself then fails only with "Connection is closed".
  let cause: Error | undefined;
  probe.on('error', (err: Error) => (cause ??= err));
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return (cause ?? (err as Error)).message;
  } finally {
    probe.disconnect();
  }
}

/** Fail fast with a message naming the setting when Redis does not answer at start-up. */
export async function assertRedisReachable(target: RedisTarget, processName: string): Promise<void> {
  const problem = await redisProblem(target);
  if (problem === undefined) return;
  const mode = parseRedisTarget(target).mode;
  const setting = mode === 'single' ? `REDIS_URL=${maskRedisUrl(target)}` : mode === 'cluster' ? `REDIS_CLUSTER_NODES (${redisAddress(target)})` : `REDIS_SENTINELS (${redisAddress(target)})`;
  console.error(`${processName}: Redis at ${setting} does not answer (${problem}); start Redis or set REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS`);
  process.exit(1);
}
