/**
 * Settings read from environment variables and checked against their schema (SETTINGS, in
 * libs/contracts): a bad value stops start-up with its name and what it must be.
 */
import { Check, ContractError, SETTINGS, SettingName, Settings, compileCheck } from '@outlet/contracts';
import { maskRedisUrl } from '@outlet/transport';

// One masking for every Redis address (transport's, where targets are parsed).
export { maskRedisUrl };

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const checks = new Map<SettingName, Check<unknown>>();

/** What a setting must be, in words, from its schema. */
function expectation(schema: Record<string, unknown>): string {
  if (typeof schema['x-error'] === 'string') return schema['x-error'];
  if (Array.isArray(schema.enum)) return `must be one of: ${schema.enum.join(', ')}`;
  if (schema.type === 'integer') return `must be an integer from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'number') return `must be a number from ${schema.minimum} to ${schema.maximum}`;
  return `must match ${schema.pattern}`;
}

/**
 * The setting `name` from the environment, checked against its schema; unset (or blank): `fallback`,
 * else the schema's default, else undefined.
 */
export function setting<K extends SettingName>(env: Env, name: K, fallback?: Settings[K]): Settings[K] | undefined {
  const value = raw(env, name);
  const schema = SETTINGS.properties[name] as unknown as Record<string, unknown>;
  if (value === undefined) return fallback ?? (schema.default as Settings[K] | undefined);
  const parsed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
  let check = checks.get(name);
  if (!check) checks.set(name, (check = compileCheck(SETTINGS.properties[name])));
  try {
    return check(parsed) as Settings[K];
  } catch (err) {
    if (err instanceof ContractError) throw new ConfigError(`${name}='${value}' ${expectation(schema)}`);
    throw err;
  }
}

/** A setting that has a default (in its schema, or `fallback`). */
export function settingOrDefault<K extends SettingName>(env: Env, name: K, fallback?: Settings[K]): Settings[K] {
  const value = setting(env, name, fallback);
  if (value === undefined) throw new Error(`setting ${name} has no default: read it with setting()`);
  return value;
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
