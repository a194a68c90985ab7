import { execFileSync } from 'node:child_process';
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

/** A throwaway redis-server on a free loopback port, without persistence. */
export async function startPrivateRedis(options: { cpus?: string; quiet?: boolean } = {}) {
  const binary = findRedisServer();
  if (!binary) throw new Error(HOW_TO_GET_REDIS);
  const port = await freePort();
  const server = new ManagedProcess({
    name: 'redis',
    command: binary,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
    readyPattern: /Ready to accept connections/,
    cpus: options.cpus,
    onLine: options.quiet === false ? undefined : null,
    readyTimeoutMs: 15_000,
  });
  await server.ready;
  return { url: `redis://127.0.0.1:${port}`, port, server };
}
