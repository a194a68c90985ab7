/** Small, strict readers of environment variables: a bad value stops start-up with its name. */
import { maskRedisUrl } from '@outlet/transport';

// One masking for every Redis address (transport's, where targets are parsed).
export { maskRedisUrl };

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function envString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function envOptional(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export function envInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}='${value}' must be an integer from ${min} to ${max}`);
  }
  return n;
}

export function envNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`${name}='${value}' must be a number from ${min} to ${max}`);
  }
  return n;
}

export function envChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(`${name}='${value}' must be one of: ${choices.join(', ')}`);
  }
  return value as T;
}


export function envRedisUrl(env: Env, fallback: string): string {
  const value = raw(env, 'REDIS_URL') ?? fallback;
  const shown = maskRedisUrl(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`REDIS_URL='${shown}' is not a URL (expected redis://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL='${shown}' must start with redis:// or rediss://`);
  }
  return value;
}

export function envNodeId(env: Env, fallback: string): string {
  const value = raw(env, 'NODE_ID') ?? fallback;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
    throw new ConfigError(`NODE_ID='${value}' may hold only letters, digits, '.', '_' and '-' (64 at most)`);
  }
  return value;
}
