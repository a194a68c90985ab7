import { createHash, timingSafeEqual } from 'node:crypto';
import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const OPEN_ACCESS = 'outlet:open-access';
/** Carries the mark into the OpenAPI document, which then lists the route without security. */
export const OPEN_ACCESS_EXTENSION = 'x-outlet-open-access';
/** Marks a route that needs no API key and is never rate limited: health probes. */
export const OpenAccess = () => applyDecorators(SetMetadata(OPEN_ACCESS, true), ApiExtension(OPEN_ACCESS_EXTENSION, true));

/** The outcome of checking one request's credentials. */
export type KeyCheck =
  | { ok: true; /** Which key (its position in OUTLET_API_KEYS), for per-key rate limits; undefined when the API is open. */ keyId?: string }
  | { ok: false; problem: 'missing' | 'malformed' | 'wrong'; message: string };

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * The API keys of OUTLET_API_KEYS and the check of an `Authorization: Bearer <key>` value, shared
 * by HTTP and gRPC. Keys are compared as SHA-256 digests with timingSafeEqual, against every key
 * without stopping at a match, so the time taken says nothing about how much of a key was right.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: string[]) {
    this.digests = keys.map(digest);
  }

  get open(): boolean {
    return this.digests.length === 0;
  }

  /** `header`: the Authorization header (HTTP) or `authorization` metadata (gRPC), as sent. */
  check(header: string | undefined, where: 'header' | 'metadata'): KeyCheck {
    if (this.open) return { ok: true };
    const name = where === 'header' ? 'Authorization' : 'authorization';
    if (header === undefined || header.trim() === '') {
      return { ok: false, problem: 'missing', message: `missing API key: send the ${where} '${name}: Bearer <key>'` };
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) return { ok: false, problem: 'malformed', message: `the ${name} ${where} must be 'Bearer <key>'` };
    const candidate = digest(match[1]);
    let found = -1;
    this.digests.forEach((d, i) => {
      if (timingSafeEqual(d, candidate) && found < 0) found = i;
    });
    if (found < 0) return { ok: false, problem: 'wrong', message: 'wrong API key' };
    return { ok: true, keyId: `key-${found + 1}` };
  }
}

/** The WWW-Authenticate challenge of a refusal (RFC 6750: no error code when no key was sent). */
export function bearerChallenge(check: Extract<KeyCheck, { ok: false }>): string {
  const error = { missing: undefined, malformed: 'invalid_request', wrong: 'invalid_token' }[check.problem];
  return error ? `Bearer realm="outlet", error="${error}"` : 'Bearer realm="outlet"';
}
