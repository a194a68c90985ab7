import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';

export const HOW_TO_GET_REDIS =
  'Outlet needs Redis 6.2 or newer. Either set REDIS_URL=redis://host:port, or install redis-server ' +
  '(Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and Outlet starts a private one.';

export function findRedisServer(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface PrivateRedisOptions {
  cpus?: string;
  quiet?: boolean;
  /** The port to listen on (default: a free one). */
  port?: number;
  /**
   * A folder for an append-only file with `appendfsync always`: an acknowledged write survives a
   * crash (`kill -9`) of this server and is there again after `restart()`. Without it the server
   * keeps nothing on disk.
   */
  dataDir?: string;
  /** More redis-server arguments (e.g. `--requirepass`, TLS settings). */
  args?: string[];
  /** The URL clients use (default redis://127.0.0.1:<port>); e.g. with a password or rediss://. */
  url?: (port: number) => string;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** The running server (replaced by `restart`). */
  server: ManagedProcess;
  /** Start it again on the same port and folder (after a stop or a kill). */
  restart(): Promise<ManagedProcess>;
}

/** A throwaway redis-server on a loopback port; without `dataDir`, without persistence. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const binary = findRedisServer();
  if (!binary) throw new Error(HOW_TO_GET_REDIS);
  const port = options.port ?? (await freePort());
  const persistence = options.dataDir
    ? ['--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no'];
  const launch = async () => {
    const server = new ManagedProcess({
      name: 'redis',
      command: binary,
      args: ['--port', String(port), '--bind', '127.0.0.1', ...persistence, '--loglevel', 'notice', ...(options.args ?? [])],
      readyPattern: /Ready to accept connections/,
      cpus: options.cpus,
      onLine: options.quiet === false ? undefined : null,
      readyTimeoutMs: 15_000,
    });
    await server.ready;
    return server;
  };
  const redis: PrivateRedis = {
    url: options.url ? options.url(port) : `redis://127.0.0.1:${port}`,
    port,
    server: await launch(),
    async restart() {
      if (redis.server.running) await redis.server.stop();
      redis.server = await launch();
      return redis.server;
    },
  };
  return redis;
}

/** redis-cli against the server (or Sentinel) on a loopback `port`, with a password through REDISCLI_AUTH; its output. */
export async function redisCli(port: number, args: string[], password?: string): Promise<string> {
  const env = { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) };
  return (await promisify(execFile)('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', env })).stdout;
}

/** Check every 100 ms until `done` holds; past `timeoutMs`, fail with `what`. */
export async function pollUntil(done: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Until the replica on `port` has finished its first sync with its primary (master_link_status:up,
 * a few seconds after it starts): before that a write the primary acknowledged exists nowhere else.
 */
export async function waitForReplicaLink(port: number, timeoutMs = 30_000, password?: string): Promise<void> {
  const synced = async () => /master_link_status:up/.test(await redisCli(port, ['info', 'replication'], password));
  await pollUntil(synced, timeoutMs, `replica on port ${port} not in sync with its primary`);
}
