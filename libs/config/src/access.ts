import { ConfigError, setting, settingOrDefault } from './env';

type Env = Record<string, string | undefined>;

/** Who may use the gateway: API keys, rate limits and the browser origins allowed by CORS. */
export interface AccessSettings {
  /** OUTLET_API_KEYS: accepted bearer keys; empty means the API is open. */
  apiKeys: string[];
  /** OUTLET_RATE_LIMIT / OUTLET_RATE_WINDOW_MS: requests per window per key (or per client IP); off when unset. */
  rateLimit?: { limit: number; windowMs: number };
  /** OUTLET_CORS_ORIGINS: '*' or the allowed origins; unset sends no CORS headers. */
  corsOrigins?: '*' | string[];
}

/** A key this short could be guessed; 16 characters is about 95 bits of entropy from a random hex or base64 source. */
const MIN_KEY_LENGTH = 16;

export function readAccessSettings(env: Env): AccessSettings {
  return { apiKeys: readApiKeys(env), rateLimit: readRateLimit(env), corsOrigins: readCorsOrigins(env) };
}

function commaList(value: string): string[] {
  return value.split(',').map((s) => s.trim());
}

/** Errors name a bad key by its position, never by its text: the text is a secret. */
function readApiKeys(env: Env): string[] {
  const value = setting(env, 'OUTLET_API_KEYS');
  if (value === undefined) return [];
  const keys = commaList(value);
  keys.forEach((key, i) => {
    const which = `OUTLET_API_KEYS: key ${i + 1} of ${keys.length}`;
    if (key === '') throw new ConfigError(`${which} is empty (a stray comma?)`);
    if (!/^[\x21-\x7e]+$/.test(key)) throw new ConfigError(`${which} has a space or a character outside printable ASCII`);
    if (key.length < MIN_KEY_LENGTH) {
      throw new ConfigError(`${which} has ${key.length} characters; use at least ${MIN_KEY_LENGTH} (e.g. openssl rand -hex 32)`);
    }
  });
  return [...new Set(keys)];
}

function readRateLimit(env: Env): AccessSettings['rateLimit'] {
  const limit = settingOrDefault(env, 'OUTLET_RATE_LIMIT');
  const windowMs = settingOrDefault(env, 'OUTLET_RATE_WINDOW_MS');
  return limit === 0 ? undefined : { limit, windowMs };
}

function readCorsOrigins(env: Env): AccessSettings['corsOrigins'] {
  const value = setting(env, 'OUTLET_CORS_ORIGINS');
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  return commaList(value).map((origin) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // A browser's Origin header is scheme://host[:port], nothing more; anything else would never match.
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(`OUTLET_CORS_ORIGINS: '${origin}' is not an origin like https://app.example.com or http://localhost:8080 (or set '*')`);
    }
    return origin;
  });
}
