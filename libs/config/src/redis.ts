import { ConnectionOptions } from 'bullmq';
import { maskRedisUrl } from './env';

/** BullMQ connection options from a redis:// URL (BullMQ needs maxRetriesPerRequest null for workers). */
export function bullConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/** Why Redis at `redisUrl` does not answer a PING, or undefined when it does. */
export async function redisProblem(redisUrl: string): Promise<string | undefined> {
  const { default: Redis } = await import('ioredis');
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5_000 });
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

/** Fail fast with a message naming REDIS_URL when Redis does not answer at start-up. */
export async function assertRedisReachable(redisUrl: string, processName: string): Promise<void> {
  const problem = await redisProblem(redisUrl);
  if (problem === undefined) return;
  console.error(`${processName}: Redis at REDIS_URL=${maskRedisUrl(redisUrl)} does not answer (${problem}); start Redis or set REDIS_URL`);
  process.exit(1);
}
