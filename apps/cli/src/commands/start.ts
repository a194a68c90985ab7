import { hostname } from 'node:os';
import { ConfigError, envInt, envNodeId, envRedisUrl, maskRedisUrl, redisProblem } from '@outlet/config';
import { HOW_TO_GET_REDIS, OutletSystem, findRedisServer } from '@outlet/supervisor';

/**
 * `outlet start` (what `npm start` runs): the whole single-node system as separate processes —
 * gateway, trunk worker, branch worker — on REDIS_URL, or on a private redis-server.
 */
export async function startCommand(): Promise<void> {
  let port: number;
  let grpcPort: number;
  let nodeId: string;
  let redisUrl: string | undefined;
  try {
    port = envInt(process.env, 'PORT', 3000, 0, 65535);
    grpcPort = envInt(process.env, 'OUTLET_GRPC_PORT', 8001, 0, 65535);
    nodeId = envNodeId(process.env, hostname());
    redisUrl = process.env.REDIS_URL ? envRedisUrl(process.env, '') : undefined;
  } catch (err) {
    if (err instanceof ConfigError) return fail(`bad setting: ${err.message}`);
    throw err;
  }
  if (redisUrl) {
    const problem = await redisProblem(redisUrl);
    if (problem !== undefined) return fail(`REDIS_URL=${maskRedisUrl(redisUrl)} does not answer (${problem}). ${HOW_TO_GET_REDIS}`);
  } else if (!findRedisServer()) {
    return fail(`REDIS_URL is not set and redis-server is not installed. ${HOW_TO_GET_REDIS}`);
  }

  console.log(redisUrl ? `outlet: using Redis at ${maskRedisUrl(redisUrl)}` : 'outlet: starting a private redis-server (set REDIS_URL to use your own)');
  let system: OutletSystem;
  try {
    system = await OutletSystem.start({ redisUrl, port, grpcPort, nodes: [{ nodeId }] });
  } catch (err) {
    return fail((err as Error).message);
  }

  const base = `http://localhost:${port}`;
  console.log('');
  console.log(`outlet: ready — node ${nodeId}, Redis ${maskRedisUrl(system.redisUrl)}`);
  console.log(`  API         ${base}/v2/models/<model>/infer   (models: ${base}/v2/models/branchy-mnist)`);
  console.log(`  gRPC        localhost:${system.grpcPort}   (inference.GRPCInferenceService; proto: apps/gateway/proto/outlet_grpc_predict_v2.proto)`);
  console.log(`  Jobs        ${base}/v1/jobs`);
  console.log(
    process.env.OUTLET_ADMIN_USER
      ? `  Bull Board  ${base}/admin/queues`
      : `  Bull Board  off (set OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD to serve ${base}/admin/queues)`,
  );
  console.log('  Ctrl-C stops everything.');

  let stopping = false;
  const stop = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`outlet: ${why}; stopping every process…`);
    await system.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  for (const p of system.processes()) {
    void p.exited.then((code) => {
      // A worker exits 0 only when it leaves on purpose (drained, or stopped with SIGTERM by
      // someone): the rest of the system goes on. Anything else is a crash.
      if (code === 0 && p !== system.gateway) {
        if (!stopping) console.log(`outlet: ${p.spec.name} left on purpose (drained or stopped, exit 0); the gateway and other workers go on`);
        return;
      }
      void stop(`${p.spec.name} exited unexpectedly (${code === null ? 'killed by a signal' : `code ${code}`})`, 1);
    });
  }
}

function fail(message: string): never {
  console.error(`outlet: ${message}`);
  process.exit(1);
}
