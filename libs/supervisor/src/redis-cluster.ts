import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateRedis, pollUntil, redisCli, startPrivateRedis, waitForReplicaLink } from './redis-server';

export interface PrivateCluster {
  /** The target every process is given: redis+cluster://127.0.0.1:<port>,… */
  target: string;
  /** Every server, masters first as `redis-cli --cluster create` made them. */
  servers: PrivateRedis[];
  /** The server that is master of `slot` now (it changes after a fail-over). */
  masterOf(slot: number): Promise<PrivateRedis>;
  /** Stop every server and remove their folders. */
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster on loopback ports for tests and `outlet chaos --redis cluster`: `masters`
 * masters with `replicas` replicas each (redis-server --cluster-enabled yes, joined by redis-cli
 * --cluster create), every server with an append-only file (appendfsync always) in a folder of its
 * own; resolves once every node reports cluster_state:ok.
 */
export async function startPrivateCluster(options: { masters?: number; replicas?: number; nodeTimeoutMs?: number; password?: string } = {}): Promise<PrivateCluster> {
  const { masters = 3, replicas = 1, nodeTimeoutMs = 2000, password } = options;
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const root = mkdtempSync(join(tmpdir(), 'outlet-cluster-'));
  const servers: PrivateRedis[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const dir = join(root, `n${i}`);
      mkdirSync(dir);
      servers.push(await startPrivateRedis({ dataDir: dir, args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', String(nodeTimeoutMs), ...auth] }));
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await redisCli(servers[0].port, ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], password);
    for (const s of servers) {
      await pollUntil(async () => (await redisCli(s.port, ['cluster', 'info'], password)).includes('cluster_state:ok'), 20_000, `cluster node ${s.port} not ok`);
    }
    for (const s of servers) if ((await redisCli(s.port, ['info', 'replication'], password)).includes('role:slave')) await waitForReplicaLink(s.port, 30_000, password);
  } catch (err) {
    await Promise.all(servers.map((s) => s.server.stop()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    target: `redis+cluster://${password ? `:${encodeURIComponent(password)}@` : ''}${servers.slice(0, masters).map((s) => `127.0.0.1:${s.port}`).join(',')}`,
    servers,
    async masterOf(slot: number) {
      for (const s of servers) {
        if (!s.server.running) continue;
        const lines = (await redisCli(s.port, ['cluster', 'nodes'], password)).split('\n');
        for (const line of lines) {
          const [, address, flags, , , , , , ...ranges] = line.split(' ');
          if (!flags?.includes('master') || flags.includes('fail')) continue;
          const owns = ranges.some((r) => {
            const [from, to] = r.split('-').map(Number);
            return slot >= from && slot <= (to ?? from);
          });
          if (owns) {
            const port = Number(address.split('@')[0].split(':')[1]);
            const found = servers.find((x) => x.port === port);
            if (found) return found;
          }
        }
        break;
      }
      throw new Error(`no live master owns slot ${slot}`);
    },
    async stop() {
      await Promise.all(servers.map((s) => s.server.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
