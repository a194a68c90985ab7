import Redis, { Cluster, RedisOptions } from 'ioredis';

/** A Redis address that cannot be used; the settings turn it into a configuration error. */
export class RedisTargetError extends Error {}

/**
 * A Redis URL (or target) fit for logs and errors: the password, if any, replaced by ***. Works on
 * text that does not parse as a URL too (a mistyped REDIS_URL may still hold a password).
 */
export function maskRedisUrl(target: string): string {
  return target.replace(/(\/\/[^:/@]*:)[^/]*@/, '$1***@');
}

type Env = Record<string, string | undefined>;

/**
 * Where a process's Redis is, as one string every process passes around (settings, logs,
 * supervisors):
 * - `redis://[user:pass@]host:port[/db]` or `rediss://…`: one server (REDIS_URL);
 * - `redis+cluster://[user:pass@]host:port,host:port,…` (`rediss+cluster://` with TLS): a Redis
 *   Cluster, from any of its nodes (REDIS_CLUSTER_NODES);
 * - `redis+sentinel://[user:pass@]host:port,host:port,…/<name>` (`rediss+sentinel://`): the
 *   primary a set of Sentinels names (REDIS_SENTINELS, REDIS_SENTINEL_NAME).
 */
export type RedisTarget = string;

export interface ParsedRedisTarget {
  mode: 'single' | 'cluster' | 'sentinel';
  /** Cluster nodes or Sentinels to start from (one server: just it). */
  nodes: { host: string; port: number }[];
  /** The Sentinels' name of the primary. */
  name?: string;
  username?: string;
  password?: string;
  tls: boolean;
  db?: number;
}

const SCHEME = /^(rediss?)(\+cluster|\+sentinel)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]*)(?:\/(.*))?$/;

function hostPorts(list: string, what: string): { host: string; port: number }[] {
  const nodes = list.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!m) throw new RedisTargetError(`${what}: '${entry}' is not host:port`);
    const port = m[2] ? Number(m[2]) : 6379;
    if (port < 1 || port > 65535) throw new RedisTargetError(`${what}: port ${port} of '${entry}' is out of range`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
  if (nodes.length === 0) throw new RedisTargetError(`${what} names no host:port`);
  return nodes;
}

export function parseRedisTarget(target: RedisTarget): ParsedRedisTarget {
  const m = SCHEME.exec(target);
  if (!m) throw new RedisTargetError(`'${maskRedisUrl(target)}' is not a Redis address (redis://host:port, or REDIS_CLUSTER_NODES / REDIS_SENTINELS)`);
  const [, scheme, kind, user, pass, hosts, path] = m;
  const mode = kind === '+cluster' ? 'cluster' : kind === '+sentinel' ? 'sentinel' : 'single';
  const auth = { username: user ? decodeURIComponent(user) : undefined, password: pass ? decodeURIComponent(pass) : undefined };
  const tls = scheme === 'rediss';
  if (mode === 'single') {
    const url = new URL(target);
    return { mode, nodes: [{ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 6379 }], ...auth, tls, db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined };
  }
  if (mode === 'sentinel' && !path) throw new RedisTargetError('a Sentinel address needs the primary\'s name (REDIS_SENTINEL_NAME)');
  return { mode, nodes: hostPorts(hosts, mode === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_SENTINELS'), ...(path ? { name: decodeURIComponent(path) } : {}), ...auth, tls };
}

/**
 * The target from the environment: REDIS_CLUSTER_NODES (a cluster), else REDIS_SENTINELS with
 * REDIS_SENTINEL_NAME (a Sentinel set), else REDIS_URL (one server), else `fallback`. A cluster or
 * Sentinel set takes its password from REDIS_PASSWORD (and REDIS_USERNAME), TLS from REDIS_TLS=on.
 * Undefined when none is set and there is no fallback.
 */
export function redisTargetFromEnv(env: Env, fallback?: string): RedisTarget | undefined {
  const cluster = env.REDIS_CLUSTER_NODES?.trim();
  const sentinels = env.REDIS_SENTINELS?.trim();
  if (cluster && sentinels) throw new RedisTargetError('set REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
  if (cluster || sentinels) {
    const tls = env.REDIS_TLS?.trim();
    if (tls && tls !== 'on' && tls !== 'off') throw new RedisTargetError(`REDIS_TLS must be on or off, not '${tls}'`);
    const scheme = `${tls === 'on' ? 'rediss' : 'redis'}+${cluster ? 'cluster' : 'sentinel'}`;
    const user = env.REDIS_USERNAME ? encodeURIComponent(env.REDIS_USERNAME) : '';
    const auth = env.REDIS_PASSWORD ? `${user}:${encodeURIComponent(env.REDIS_PASSWORD)}@` : user ? `${user}@` : '';
    let target = `${scheme}://${auth}${cluster ?? sentinels}`;
    if (sentinels) {
      const name = env.REDIS_SENTINEL_NAME?.trim();
      if (!name) throw new RedisTargetError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the name the Sentinels know the primary by');
      target += `/${encodeURIComponent(name)}`;
    }
    parseRedisTarget(target); // checks every host:port
    return target;
  }
  return env.REDIS_URL?.trim() || fallback;
}

/** The environment that gives a child process the same target (and unsets the other modes). */
export function redisEnv(target: RedisTarget): Record<string, string | undefined> {
  const t = parseRedisTarget(target);
  const none = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: undefined, REDIS_SENTINELS: undefined, REDIS_SENTINEL_NAME: undefined };
  if (t.mode === 'single') return { ...none, REDIS_URL: target };
  const list = t.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  return {
    ...none,
    ...(t.mode === 'cluster' ? { REDIS_CLUSTER_NODES: list } : { REDIS_SENTINELS: list, REDIS_SENTINEL_NAME: t.name }),
    REDIS_USERNAME: t.username,
    REDIS_PASSWORD: t.password,
    REDIS_TLS: t.tls ? 'on' : 'off',
  };
}

/** host:port (or the list, with the mode) without credentials, for log lines. */
export function redisAddress(target: RedisTarget): string {
  const t = parseRedisTarget(target);
  const list = t.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  return t.mode === 'single' ? list : t.mode === 'cluster' ? `cluster ${list}` : `Sentinel primary '${t.name}' via ${list}`;
}

/**
 * A client for the target: a Redis for one server or a Sentinel-managed primary (it follows a
 * fail-over), an ioredis Cluster for a cluster (it follows slot moves and fail-overs). Typed as
 * Redis: a Cluster answers the same commands, pipelines and pub/sub Outlet uses.
 */
export function createRedisClient(target: RedisTarget, options: RedisOptions = {}): Redis {
  const t = parseRedisTarget(target);
  if (t.mode === 'single') return new Redis(target, options);
  if (t.mode === 'sentinel') return new Redis({ ...options, ...sentinelOptions(t) });
  const { lazyConnect, ...nodeOptions } = options;
  // Through a fail-over (a master's death to its replica's promotion: about cluster-node-timeout
  // and a second or two) commands are redirected and retried for up to ~10 s instead of failing.
  const failover = { retryDelayOnMoved: 100, maxRedirections: 100, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, retryDelayOnTryAgain: 200 };
  return new Cluster(t.nodes, { lazyConnect, ...failover, redisOptions: { ...nodeOptions, ...authOptions(t) } }) as unknown as Redis;
}

/** A target's credentials and TLS, as ioredis takes them. */
function authOptions(t: ParsedRedisTarget) {
  return { username: t.username, password: t.password, ...(t.tls ? { tls: {} } : {}) };
}

/** ioredis options for the primary a Sentinel set names (its clients and BullMQ's connections alike). */
export function sentinelOptions(t: ParsedRedisTarget) {
  return { ...authOptions(t), sentinels: t.nodes, name: t.name, sentinelPassword: t.password, ...(t.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}) };
}
