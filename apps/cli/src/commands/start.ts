import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError, envRedisUrl, maskRedisUrl, redisProblem, setting, settingOrDefault } from '@outlet/config';
import { RedisTargetError, parseRedisTarget, redisAddress, redisTargetFromEnv } from '@outlet/transport';
import { HOW_TO_GET_REDIS, ManagedProcess, OutletSystem, findRedisServer } from '@outlet/supervisor';

/**
 * `outlet start` (what `npm start` runs): the whole single-node system as separate processes —
 * gateway, trunk worker, branch worker — on REDIS_URL, or on a private redis-server: without
 * persistence, or with an append-only file (appendfsync always) in OUTLET_REDIS_DIR.
 */
export async function startCommand(): Promise<void> {
  let port: number;
  let grpcPort: number;
  let nodeId: string;
  let redisUrl: string | undefined;
  let redisDir: string | undefined;
  try {
    port = settingOrDefault(process.env, 'PORT');
    grpcPort = settingOrDefault(process.env, 'OUTLET_GRPC_PORT');
    nodeId = settingOrDefault(process.env, 'NODE_ID', hostname());
    if (process.env.REDIS_URL) envRedisUrl(process.env, '');
    redisUrl = redisTargetFromEnv(process.env);
    redisDir = setting(process.env, 'OUTLET_REDIS_DIR');
    if (redisDir && redisUrl) {
      throw new ConfigError(`OUTLET_REDIS_DIR is for the private redis-server, but REDIS_URL (or REDIS_CLUSTER_NODES, REDIS_SENTINELS) is set: give that Redis its own persistence (appendonly yes) and unset OUTLET_REDIS_DIR`);
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RedisTargetError) return fail(`bad setting: ${err.message}`);
    throw err;
  }
  if (redisUrl) {
    const problem = await redisProblem(redisUrl);
    const where = parseRedisTarget(redisUrl).mode === 'single' ? `REDIS_URL=${maskRedisUrl(redisUrl)}` : redisAddress(redisUrl);
    if (problem !== undefined) return fail(`Redis at ${where} does not answer (${problem}). ${HOW_TO_GET_REDIS}`);
  } else if (!findRedisServer()) {
    return fail(`REDIS_URL is not set and redis-server is not installed. ${HOW_TO_GET_REDIS}`);
  }

  if (redisDir) {
    redisDir = resolve(redisDir);
    try {
      mkdirSync(redisDir, { recursive: true });
    } catch (err) {
      return fail(`OUTLET_REDIS_DIR=${redisDir} cannot be created: ${(err as Error).message}`);
    }
  }

  if (redisUrl) console.log(`outlet: using Redis at ${parseRedisTarget(redisUrl).mode === 'single' ? maskRedisUrl(redisUrl) : redisAddress(redisUrl)}`);
  else if (redisDir) console.log(`outlet: starting a private redis-server with an append-only file in ${redisDir} (appendfsync always: accepted jobs survive a crash)`);
  else console.log('outlet: starting a private redis-server without persistence (set OUTLET_REDIS_DIR to keep jobs across a crash, or REDIS_URL to use your own)');
  let system: OutletSystem;
  try {
    system = await OutletSystem.start({ redisUrl, port, grpcPort, nodes: [{ nodeId }], redis: redisDir ? { dataDir: redisDir } : undefined });
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
  // The private Redis died: start it again on its port (the other processes reconnect by
  // themselves); with OUTLET_REDIS_DIR its append-only file brings every accepted job back.
  const privateRedis = system.privateRedis;
  const restartRedisWhenItDies = (server: ManagedProcess) =>
    void server.exited.then(async (code) => {
      if (stopping || !privateRedis) return;
      const what = redisDir ? `from its append-only file in ${redisDir}` : 'empty: without OUTLET_REDIS_DIR its queued jobs are lost';
      console.log(`outlet: the private redis-server exited unexpectedly (${code === null ? 'killed by a signal' : `code ${code}`}); starting it again ${what}`);
      try {
        restartRedisWhenItDies(await privateRedis.restart());
      } catch (err) {
        void stop(`the private redis-server does not start again: ${(err as Error).message}`, 1);
      }
    });
  if (privateRedis) restartRedisWhenItDies(privateRedis.server);
}

function fail(message: string): never {
  console.error(`outlet: ${message}`);
  process.exit(1);
}
