import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { FEATURE_TRANSPORTS, FeatureTransport } from '@outlet/contracts';
import { defaultFeatureRoot } from '@outlet/transport';
import { ConfigError, envChoice, envInt, envNodeId, envOptional, envRedisUrl, envString } from './env';

/**
 * Every setting of every Outlet process, read from the environment. Each process reads only the
 * part it needs; the README lists them all.
 */

export const TRUNK_EPS = ['auto', 'cuda', 'webgpu', 'cpu'] as const;
export type TrunkEpSetting = (typeof TRUNK_EPS)[number];

type Env = Record<string, string | undefined>;

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface CommonSettings {
  redisUrl: string;
  modelsDir: string;
  /** Completed/failed jobs kept per queue for inspection (Bull Board, async results). */
  jobRetention: number;
}

export function readCommonSettings(env: Env = process.env): CommonSettings {
  return {
    redisUrl: envRedisUrl(env, DEFAULT_REDIS_URL),
    modelsDir: resolve(envString(env, 'OUTLET_MODELS_DIR', 'models')),
    jobRetention: envInt(env, 'OUTLET_JOB_RETENTION', 1000, 1, 1_000_000),
  };
}

export interface GatewaySettings extends CommonSettings {
  port: number;
  host: string;
  defaultPlan: string;
  bodyLimit: string;
  inferTimeoutMs: number;
  admin?: { user: string; password: string };
}

export function readGatewaySettings(env: Env = process.env): GatewaySettings {
  const user = envOptional(env, 'OUTLET_ADMIN_USER');
  const password = envOptional(env, 'OUTLET_ADMIN_PASSWORD');
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError('OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD must be set together');
  }
  const bodyLimit = envString(env, 'OUTLET_BODY_LIMIT', '1mb');
  if (!/^\d+(b|kb|mb)$/i.test(bodyLimit)) {
    throw new ConfigError(`OUTLET_BODY_LIMIT='${bodyLimit}' must look like 512kb or 1mb`);
  }
  return {
    ...readCommonSettings(env),
    port: envInt(env, 'PORT', 3000, 0, 65535),
    host: envString(env, 'HOST', '0.0.0.0'),
    defaultPlan: envString(env, 'OUTLET_DEFAULT_PLAN', 'auto'),
    bodyLimit,
    inferTimeoutMs: envInt(env, 'OUTLET_INFER_TIMEOUT_MS', 30_000, 100, 3_600_000),
    admin: user !== undefined && password !== undefined ? { user, password } : undefined,
  };
}

export interface NodeSettings extends CommonSettings {
  nodeId: string;
  /** How features go from trunk to branch: files in shared memory (same host) or Redis values. */
  featureTransport: FeatureTransport;
  /** Root folder of the shared-memory feature files (each node uses <root>/<NODE_ID>). */
  featureRoot: string;
}

export function readNodeSettings(env: Env = process.env): NodeSettings {
  return {
    ...readCommonSettings(env),
    nodeId: envNodeId(env, hostname()),
    featureTransport: envChoice(env, 'OUTLET_FEATURE_TRANSPORT', 'shm', FEATURE_TRANSPORTS),
    featureRoot: resolve(envString(env, 'OUTLET_FEATURE_DIR', defaultFeatureRoot())),
  };
}

export interface TrunkSettings extends NodeSettings {
  trunkEp: TrunkEpSetting;
  threads: number;
  concurrency: number;
}

export function readTrunkSettings(env: Env = process.env): TrunkSettings {
  return {
    ...readNodeSettings(env),
    trunkEp: envChoice(env, 'OUTLET_TRUNK_EP', 'auto', TRUNK_EPS),
    threads: envInt(env, 'OUTLET_TRUNK_THREADS', 1, 1, 256),
    concurrency: envInt(env, 'OUTLET_TRUNK_CONCURRENCY', 1, 1, 64),
  };
}

export interface BranchSettings extends NodeSettings {
  threads: number;
  concurrency: number;
}

export function readBranchSettings(env: Env = process.env): BranchSettings {
  return {
    ...readNodeSettings(env),
    threads: envInt(env, 'OUTLET_BRANCH_THREADS', 1, 1, 256),
    concurrency: envInt(env, 'OUTLET_BRANCH_CONCURRENCY', 1, 1, 64),
  };
}

/** Run a settings reader; on a bad value print the reason and exit 1 (no stack trace). */
export function settingsOrExit<T>(read: () => T, processName: string): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${processName}: bad setting: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
