import { availableParallelism, homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FeatureTransport, TrunkEpSetting } from '@outlet/contracts';
import { RedisTargetError, defaultFeatureRoot, redisTargetFromEnv } from '@outlet/transport';
import { ConfigError, envRedisUrl, setting, settingOrDefault } from './env';
import { AccessSettings, readAccessSettings } from './access';

/**
 * Every setting of every Outlet process, read from the environment. Each process reads only the
 * part it needs. Names, bounds, defaults and meanings are SETTINGS (libs/contracts), from which
 * docs/settings.md's table is generated.
 */

type Env = Record<string, string | undefined>;

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** REDIS_CLUSTER_NODES, else REDIS_SENTINELS, else REDIS_URL (checked as a URL), else the default. */
function redisTarget(env: Env): string {
  try {
    return redisTargetFromEnv({ ...env, REDIS_URL: envRedisUrl(env, DEFAULT_REDIS_URL) })!;
  } catch (err) {
    if (err instanceof RedisTargetError) throw new ConfigError(err.message);
    throw err;
  }
}

export interface CommonSettings {
  redisUrl: string;
  modelsDir: string;
  /** Completed/failed jobs kept per queue for inspection (Bull Board, async results). */
  jobRetention: number;
}

export function readCommonSettings(env: Env = process.env): CommonSettings {
  return {
    // REDIS_URL is checked as a URL; a cluster or Sentinel set comes as a composite target (redis-target.ts).
    redisUrl: redisTarget(env),
    modelsDir: resolve(settingOrDefault(env, 'OUTLET_MODELS_DIR')),
    jobRetention: settingOrDefault(env, 'OUTLET_JOB_RETENTION'),
  };
}

/** Accuracy under drift: audits of answered tasks, and the fleet's online tuning of exit thresholds. */
export interface AccuracySettings {
  /** OUTLET_AUDIT_RATE: the share of answered tasks audited (run on to the final exit) normally. */
  auditRate: number;
  /** OUTLET_AUDIT_MAX_RATE: the most the tuner raises the audit rate to while agreement is in doubt. */
  auditMaxRate: number;
  /** OUTLET_ACCURACY_BUDGET: the answers may disagree with the final exit for at most this share of tasks. */
  accuracyBudget: number;
  /** OUTLET_ADAPT: `on` tunes thresholds online; `off` keeps the offline ones (audits still run and are shown). */
  adapt: boolean;
}

export function readAccuracySettings(env: Env = process.env): AccuracySettings {
  const auditRate = settingOrDefault(env, 'OUTLET_AUDIT_RATE');
  const auditMaxRate = settingOrDefault(env, 'OUTLET_AUDIT_MAX_RATE', Math.max(0.5, auditRate));
  if (auditMaxRate < auditRate) throw new ConfigError(`OUTLET_AUDIT_MAX_RATE=${auditMaxRate} is below OUTLET_AUDIT_RATE=${auditRate}`);
  return {
    auditRate,
    auditMaxRate,
    accuracyBudget: settingOrDefault(env, 'OUTLET_ACCURACY_BUDGET'),
    adapt: settingOrDefault(env, 'OUTLET_ADAPT') === 'on',
  };
}

export interface GatewaySettings extends CommonSettings, AccessSettings, AccuracySettings {
  port: number;
  host: string;
  /** The gRPC API's port (OUTLET_GRPC_PORT, default 8001; 0: one the OS picks, logged at start). */
  grpcPort: number;
  defaultPlan: string;
  bodyLimit: string;
  inferTimeoutMs: number;
  /** Waiting tasks a model's queue may hold before requests get 429 (0: unbounded). */
  maxQueued: number;
  /** The BullMQ priority of a request that names none (or priority 0). */
  defaultPriority: number;
  /** Replicas that must confirm a task's writes (Redis WAIT) before it counts as accepted (OUTLET_REDIS_WAIT_REPLICAS; 0: none). */
  redisWaitReplicas: number;
  /** How long that confirmation may take (OUTLET_REDIS_WAIT_MS). */
  redisWaitMs: number;
  admin?: { user: string; password: string };
}

export function readGatewaySettings(env: Env = process.env): GatewaySettings {
  const user = setting(env, 'OUTLET_ADMIN_USER');
  const password = setting(env, 'OUTLET_ADMIN_PASSWORD');
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError('OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD must be set together');
  }
  return {
    ...readCommonSettings(env),
    port: settingOrDefault(env, 'PORT'),
    host: settingOrDefault(env, 'HOST'),
    grpcPort: settingOrDefault(env, 'OUTLET_GRPC_PORT'),
    defaultPlan: settingOrDefault(env, 'OUTLET_DEFAULT_PLAN'),
    bodyLimit: settingOrDefault(env, 'OUTLET_BODY_LIMIT'),
    inferTimeoutMs: settingOrDefault(env, 'OUTLET_INFER_TIMEOUT_MS'),
    maxQueued: settingOrDefault(env, 'OUTLET_MAX_QUEUED'),
    defaultPriority: settingOrDefault(env, 'OUTLET_DEFAULT_PRIORITY'),
    redisWaitReplicas: settingOrDefault(env, 'OUTLET_REDIS_WAIT_REPLICAS'),
    redisWaitMs: settingOrDefault(env, 'OUTLET_REDIS_WAIT_MS'),
    admin: user !== undefined && password !== undefined ? { user, password } : undefined,
    ...readAccessSettings(env),
    ...readAccuracySettings(env),
  };
}

/**
 * Default CPU threads for the trunk and the branch worker of one node (each sets its ONNX Runtime
 * intra-op threads), when OUTLET_TRUNK_THREADS / OUTLET_BRANCH_THREADS are unset.
 *
 * - Accelerator trunk (`webgpu`, `cuda`): the trunk needs one thread to feed the accelerator;
 *   the heads get a quarter of the cores, 1 to 4: branch = clamp(⌊cores/4⌋, 1, 4). Measured on
 *   16 cores with a WebGPU trunk: a head took 5.4 / 2.5 / 1.4 ms on 1 / 4 / 8 threads; 4 head
 *   threads gave the best latency (parallel 1.28× over serial) and 8 halved throughput (46 vs 86
 *   tasks/s): more head threads compete for the CPU with the trunk's feeding thread and its
 *   speculative work, and gain little on heads this small.
 * - CPU trunk (`cpu`, and `auto`): the trunk wants most cores; the heads get an eighth, 1 to 4,
 *   and from 8 cores up one core is left for the event loops, Redis and the gateway:
 *   branch = clamp(⌊cores/8⌋, 1, 4), trunk = max(1, cores − branch − (cores ≥ 8 ? 1 : 0)).
 * - `auto` counts as a CPU trunk: the branch worker cannot know what the trunk's probe will find,
 *   and the two mistakes are not alike: a CPU trunk given one thread runs its segments 3–4× slower
 *   (14–16 ms on 1 thread vs 4–5 on 4–8), while an accelerator trunk given CPU threads leaves
 *   them idle and its heads get a few fewer threads. Set OUTLET_TRUNK_EP=webgpu (or cuda) on
 *   accelerator nodes to get the accelerator budget.
 *
 * 2 cores: trunk 1, branch 1 either way.
 */
export function defaultThreadBudget(cores: number, trunkEp: string): { trunk: number; branch: number } {
  const n = Math.max(1, Math.floor(Number.isFinite(cores) ? cores : 1));
  const clamp = (v: number) => Math.min(4, Math.max(1, v));
  if (trunkEp === 'webgpu' || trunkEp === 'cuda') return { trunk: 1, branch: clamp(Math.floor(n / 4)) };
  const branch = clamp(Math.floor(n / 8));
  return { trunk: Math.max(1, n - branch - (n >= 8 ? 1 : 0)), branch };
}

/** CPU cores this process may use (os.availableParallelism). */
export function nodeCores(): number {
  return availableParallelism();
}

export interface NodeSettings extends CommonSettings {
  nodeId: string;
  /** How features go from trunk to branch: files in shared memory (same host) or Redis values. */
  featureTransport: FeatureTransport;
  /** Root folder of the shared-memory feature files (each node uses <root>/<NODE_ID>). */
  featureRoot: string;
  /**
   * OUTLET_LOCK_MS: how long a worker's claim on a task (or subjob) lasts without renewal. The
   * renewal period and the stalled check derive from it (jobLockOptions).
   */
  lockMs: number;
  /** OUTLET_HEARTBEAT_MS: how often the node's workers announce themselves (stale after 2 missed, gone after 5). */
  heartbeatMs: number;
}

/** The BullMQ worker options that decide how soon a dead worker's jobs are taken over. */
export interface JobLockOptions {
  lockDuration: number;
  lockRenewTime: number;
  stalledInterval: number;
  maxStalledCount: number;
}

/**
 * Worker lock and stalled-check options from one setting, OUTLET_LOCK_MS (default 4000).
 *
 * - The lock is renewed every lockMs/2 (BullMQ's own default ratio) and the stalled check runs
 *   every lockMs/2. A job of a dead worker loses its lock at most lockMs after the last renewal and
 *   is in the "maybe stalled" set of the check before, so the next check moves it back to wait:
 *   a takeover within about lockMs + lockMs/2 (6 s by default) instead of BullMQ's 30 + 30 s.
 * - Short locks are safe because no Outlet worker blocks its event loop: ONNX Runtime runs in a
 *   worker thread (ModelThread) in the trunk and in the branch worker, so renewals are never late
 *   by more than a few ms. A false stall (e.g. Redis unreachable for more than lockMs/2) costs only
 *   a second run: the answer slot keeps the first answer, and a re-run subjob finds its feature
 *   taken and ends 'dropped'.
 * - maxStalledCount 1 (BullMQ's default): a task is recovered once; a task that stalls twice (one
 *   that crashes every trunk that takes it) fails, and its caller hears the failure, instead of
 *   looping. A stall counts apart from `attempts`: a stalled job goes back to wait even with
 *   attempts = 1.
 */
export function jobLockOptions(lockMs: number): JobLockOptions {
  const half = Math.max(1, Math.floor(lockMs / 2));
  return { lockDuration: lockMs, lockRenewTime: half, stalledInterval: half, maxStalledCount: 1 };
}

/**
 * The lock options of branch subjobs: as jobLockOptions, but a stalled subjob (its branch worker
 * died) fails instead of running again: its task is answered by the trunk's final exit anyway.
 */
export function subjobLockOptions(lockMs: number): JobLockOptions {
  return { ...jobLockOptions(lockMs), maxStalledCount: 0 };
}

export function readNodeSettings(env: Env = process.env): NodeSettings {
  return {
    ...readCommonSettings(env),
    nodeId: settingOrDefault(env, 'NODE_ID', hostname()),
    featureTransport: settingOrDefault(env, 'OUTLET_FEATURE_TRANSPORT'),
    featureRoot: resolve(settingOrDefault(env, 'OUTLET_FEATURE_DIR', defaultFeatureRoot())),
    lockMs: settingOrDefault(env, 'OUTLET_LOCK_MS'),
    heartbeatMs: settingOrDefault(env, 'OUTLET_HEARTBEAT_MS'),
  };
}

export interface TrunkSettings extends NodeSettings, AccuracySettings {
  trunkEp: TrunkEpSetting;
  threads: number;
  /** The node's branch workers' threads (OUTLET_BRANCH_THREADS): part of the fingerprint its own profile is measured on. */
  branchThreads: number;
  concurrency: number;
  /** Where the node keeps its own profiles between runs (OUTLET_CACHE_DIR, default $XDG_CACHE_HOME/outlet or ~/.cache/outlet). */
  cacheDir: string;
  /** Measure a profile of its own when none exists for its fingerprint (OUTLET_SELF_PROFILE=off: never). */
  selfProfile: boolean;
  /** Re-plan when a stage's observed median runs this many times its profile, or 1/this (OUTLET_REPLAN_RATIO). */
  replanRatio: number;
}

/** `cores`: the node's CPU cores for the default thread budget (default: nodeCores()). */
export function readTrunkSettings(env: Env = process.env, cores: number = nodeCores()): TrunkSettings {
  const trunkEp = settingOrDefault(env, 'OUTLET_TRUNK_EP');
  return {
    ...readNodeSettings(env),
    trunkEp,
    threads: settingOrDefault(env, 'OUTLET_TRUNK_THREADS', defaultThreadBudget(cores, trunkEp).trunk),
    branchThreads: settingOrDefault(env, 'OUTLET_BRANCH_THREADS', defaultThreadBudget(cores, trunkEp).branch),
    concurrency: settingOrDefault(env, 'OUTLET_TRUNK_CONCURRENCY'),
    cacheDir: resolve(settingOrDefault(env, 'OUTLET_CACHE_DIR', join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'outlet'))),
    selfProfile: settingOrDefault(env, 'OUTLET_SELF_PROFILE') === 'on',
    replanRatio: settingOrDefault(env, 'OUTLET_REPLAN_RATIO'),
    ...readAccuracySettings(env),
  };
}

export interface BranchSettings extends NodeSettings {
  threads: number;
  concurrency: number;
}

/** The branch worker reads OUTLET_TRUNK_EP too: its default thread budget depends on the trunk's processor. */
export function readBranchSettings(env: Env = process.env, cores: number = nodeCores()): BranchSettings {
  const trunkEp = settingOrDefault(env, 'OUTLET_TRUNK_EP');
  return {
    ...readNodeSettings(env),
    threads: settingOrDefault(env, 'OUTLET_BRANCH_THREADS', defaultThreadBudget(cores, trunkEp).branch),
    concurrency: settingOrDefault(env, 'OUTLET_BRANCH_CONCURRENCY'),
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
