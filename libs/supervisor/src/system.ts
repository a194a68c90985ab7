import { resolve } from 'node:path';
import { ManagedProcess } from './managed-process';
import { PrivateRedis, PrivateRedisOptions, startPrivateRedis } from './redis-server';
import { freePort } from './free-port';
import { redisEnv } from '@outlet/transport';

/** The compiled entry point of an app (dist/apps/<app>/src/main.js). */
export function appEntry(app: 'gateway' | 'trunk-worker' | 'branch-worker' | 'cli'): string {
  return resolve(__dirname, '..', '..', '..', 'apps', app, 'src', 'main.js');
}

export interface NodeSpec {
  nodeId: string;
  env?: Record<string, string>;
  trunkEnv?: Record<string, string>;
  branchEnv?: Record<string, string>;
  /** taskset core lists, e.g. trunk "0" and branch "1". */
  trunkCpus?: string;
  branchCpus?: string;
}

export interface SystemSpec {
  /** Use this Redis (a URL, or a cluster or Sentinel target: see redis-target.ts); otherwise a private redis-server is started. */
  redisUrl?: string;
  /** Gateway port; 0 or unset picks a free one. */
  port?: number;
  /** The gateway's gRPC port (OUTLET_GRPC_PORT); 0 or unset picks a free one. */
  grpcPort?: number;
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  nodes: NodeSpec[];
  /** Print the processes' output with a prefix (default) or drop it. */
  quiet?: boolean;
  /** taskset core lists of the gateway and of the private Redis. */
  gatewayCpus?: string;
  redisCpus?: string;
  /** Options of the private redis-server (persistence folder, password, TLS); ignored with redisUrl. */
  redis?: Omit<PrivateRedisOptions, 'cpus' | 'quiet'>;
}

export interface RunningNode {
  nodeId: string;
  /** The node's trunk worker (replaced by `respawn`). */
  trunk: ManagedProcess;
  branch: ManagedProcess;
}

/** A whole Outlet system of separate processes: Redis (maybe private), a gateway and nodes. */
export class OutletSystem {
  private constructor(
    readonly redisUrl: string,
    readonly baseUrl: string,
    readonly gateway: ManagedProcess,
    readonly nodes: RunningNode[],
    /** The private redis-server, when this system started one (kill it, restart it). */
    readonly privateRedis: PrivateRedis | undefined,
    /** The gateway's gRPC API, host:port (inference.GRPCInferenceService). */
    readonly grpcAddress: string = '',
    private readonly spec?: SystemSpec,
  ) {}

  /** The port of grpcAddress. */
  get grpcPort(): number {
    return Number(this.grpcAddress.slice(this.grpcAddress.lastIndexOf(':') + 1));
  }

  static async start(spec: SystemSpec): Promise<OutletSystem> {
    const privateRedis = spec.redisUrl ? undefined : await startPrivateRedis({ ...spec.redis, cpus: spec.redisCpus });
    const redisUrl = spec.redisUrl ?? privateRedis!.url;
    const port = spec.port || (await freePort());
    let grpcPort = spec.grpcPort || (await freePort());
    while (grpcPort === port) grpcPort = await freePort();
    const started: ManagedProcess[] = privateRedis ? [privateRedis.server] : [];
    try {
      const nodes = spec.nodes.map((n) => OutletSystem.spawnNode(spec, redisUrl, n));
      started.push(...nodes.flatMap((n) => [n.trunk, n.branch]));
      const gateway = new ManagedProcess({
        name: 'gateway',
        command: process.execPath,
        args: [appEntry('gateway')],
        env: { ...spec.env, ...spec.gatewayEnv, ...redisEnv(redisUrl), PORT: String(port), OUTLET_GRPC_PORT: String(grpcPort) },
        readyPattern: /serving .* API http/,
        cpus: spec.gatewayCpus,
        onLine: spec.quiet ? null : undefined,
      });
      started.push(gateway);
      await Promise.all([gateway.ready, ...nodes.flatMap((n) => [n.trunk.ready, n.branch.ready])]);
      return new OutletSystem(redisUrl, `http://127.0.0.1:${port}`, gateway, nodes, privateRedis, `127.0.0.1:${grpcPort}`, spec);
    } catch (err) {
      await Promise.all(started.reverse().map((p) => p.stop('SIGTERM', 5_000)));
      throw err;
    }
  }

  private static spawnNode(spec: SystemSpec, redisUrl: string, node: NodeSpec): RunningNode {
    return {
      nodeId: node.nodeId,
      trunk: OutletSystem.spawnWorker(spec, redisUrl, node, 'trunk'),
      branch: OutletSystem.spawnWorker(spec, redisUrl, node, 'branch'),
    };
  }

  private static spawnWorker(spec: SystemSpec, redisUrl: string, node: NodeSpec, role: 'trunk' | 'branch'): ManagedProcess {
    return new ManagedProcess({
      name: `${role}:${node.nodeId}`,
      command: process.execPath,
      args: [appEntry(role === 'trunk' ? 'trunk-worker' : 'branch-worker')],
      env: {
        ...spec.env,
        ...node.env,
        ...(role === 'trunk' ? node.trunkEnv : node.branchEnv),
        ...redisEnv(redisUrl),
        NODE_ID: node.nodeId,
      },
      readyPattern: /node .* ready/,
      cpus: role === 'trunk' ? node.trunkCpus : node.branchCpus,
      onLine: spec.quiet ? null : undefined,
    });
  }

  /** Start one more node (with the system's env and Redis), and wait until its workers are ready. */
  async addNode(node: NodeSpec): Promise<RunningNode> {
    if (!this.spec) throw new Error('this system was not started from a spec');
    const running = OutletSystem.spawnNode(this.spec, this.redisUrl, node);
    this.spec.nodes.push(node);
    this.nodes.push(running);
    await Promise.all([running.trunk.ready, running.branch.ready]);
    return running;
  }

  /** Start a node's trunk or branch worker again (after it was killed), and wait until it is ready. */
  async respawn(nodeId: string, role: 'trunk' | 'branch'): Promise<ManagedProcess> {
    const node = this.nodes.find((n) => n.nodeId === nodeId);
    if (!node || !this.spec) throw new Error(`no node '${nodeId}' in this system`);
    if (node[role].running) await node[role].stop();
    const spec = this.spec.nodes.find((n) => n.nodeId === nodeId)!;
    node[role] = OutletSystem.spawnWorker(this.spec, this.redisUrl, spec, role);
    await node[role].ready;
    return node[role];
  }

  processes(): ManagedProcess[] {
    return [this.gateway, ...this.nodes.flatMap((n) => [n.trunk, n.branch])];
  }

  /** SIGTERM to every process (gateway first, then workers, Redis last) and wait for them. */
  async stop(): Promise<void> {
    await this.gateway.stop();
    await Promise.all(this.nodes.flatMap((n) => [n.trunk.stop(), n.branch.stop()]));
    await this.privateRedis?.server.stop();
  }
}
