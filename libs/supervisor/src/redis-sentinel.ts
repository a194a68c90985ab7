import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { ManagedProcess } from './managed-process';
import { HOW_TO_GET_REDIS, PrivateRedis, findRedisServer, pollUntil, redisCli, startPrivateRedis, waitForReplicaLink } from './redis-server';

/** The name the Sentinels know the primary by. */
export const SENTINEL_PRIMARY_NAME = 'outlet';

export interface PrivateSentinelSet {
  /** The target every process is given: redis+sentinel://127.0.0.1:<port>,…/outlet */
  target: string;
  /** The primary and its replicas, as started (the primary first). */
  servers: PrivateRedis[];
  sentinels: ManagedProcess[];
  /** The server the Sentinels name primary now (it changes after a fail-over). */
  primary(): Promise<PrivateRedis>;
  stop(): Promise<void>;
}

/**
 * A real Sentinel-managed Redis on loopback ports for tests and `outlet chaos --redis sentinel`: a
 * primary, `replicas` replicas (append-only files, appendfsync always) and `sentinels` Sentinels
 * (quorum: a majority) that fail over `downAfterMs` after the primary stops answering.
 */
export async function startPrivateSentinelSet(options: { replicas?: number; sentinels?: number; downAfterMs?: number } = {}): Promise<PrivateSentinelSet> {
  const { replicas = 1, sentinels: count = 3, downAfterMs = 1000 } = options;
  const binary = findRedisServer();
  if (!binary) throw new Error(HOW_TO_GET_REDIS);
  const root = mkdtempSync(join(tmpdir(), 'outlet-sentinel-'));
  const servers: PrivateRedis[] = [];
  const sentinels: ManagedProcess[] = [];
  const stopAll = async () => {
    await Promise.all([...sentinels.map((s) => s.stop()), ...servers.map((s) => s.server.stop())]);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i <= replicas; i++) {
      const dir = join(root, `r${i}`);
      mkdirSync(dir);
      const replicaOf = i === 0 ? [] : ['--replicaof', '127.0.0.1', String(servers[0].port)];
      servers.push(await startPrivateRedis({ dataDir: dir, args: replicaOf }));
    }
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const conf = join(root, `sentinel-${i}.conf`);
      writeFileSync(conf, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${root}`,
        `sentinel monitor ${SENTINEL_PRIMARY_NAME} 127.0.0.1 ${servers[0].port} ${Math.floor(count / 2) + 1}`,
        `sentinel down-after-milliseconds ${SENTINEL_PRIMARY_NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${SENTINEL_PRIMARY_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_PRIMARY_NAME} 1`,
        '',
      ].join('\n'));
      const sentinel = new ManagedProcess({ name: `sentinel-${i}`, command: binary, args: [conf, '--sentinel'], readyPattern: /\+monitor master/, onLine: null, readyTimeoutMs: 15_000 });
      sentinels.push(sentinel);
      ports.push(port);
    }
    await Promise.all(sentinels.map((s) => s.ready));
    for (const replica of servers.slice(1)) await waitForReplicaLink(replica.port);
    // Every Sentinel has found the replicas before anything relies on a fail-over.
    for (const port of ports) {
      const seesReplicas = async () => ((await redisCli(port, ['sentinel', 'replicas', SENTINEL_PRIMARY_NAME])).match(/^name$/gm) ?? []).length >= replicas;
      await pollUntil(seesReplicas, 20_000, `sentinel on ${port} sees no replica`);
    }
    return {
      target: `redis+sentinel://${ports.map((p) => `127.0.0.1:${p}`).join(',')}/${SENTINEL_PRIMARY_NAME}`,
      servers,
      sentinels,
      async primary() {
        const out = await redisCli(ports[0], ['sentinel', 'get-master-addr-by-name', SENTINEL_PRIMARY_NAME]);
        const port = Number(out.trim().split('\n')[1]);
        const found = servers.find((s) => s.port === port);
        if (!found) throw new Error(`the Sentinels name an unknown primary: ${out.trim()}`);
        return found;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
