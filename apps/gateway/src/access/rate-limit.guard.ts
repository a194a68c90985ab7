import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { OPEN_ACCESS } from './api-keys';
import { KeyedRequest } from './api-key.guard';

/** The one limit Outlet sets; 'default' is also the name whose headers carry no suffix (Retry-After). */
export const THROTTLER_NAME = 'default';

/** The storage key of one budget: the same for HTTP and gRPC, so a key (or client) has one budget for both. */
export const rateLimitKey = (throttlerName: string, tracker: string) => `${throttlerName}:${tracker}`;

/** The tracker of a request without a key: its client address. */
export const clientTracker = (address: string) => `ip:${address}`;

/** The 429 (or RESOURCE_EXHAUSTED) message. */
export function rateLimitMessage(limit: number, windowMs: number, tracker: string, retryAfterS: number): string {
  const who = tracker.startsWith('ip:') ? 'this client' : 'this API key';
  return `rate limit exceeded: more than ${limit} requests in ${windowMs} ms from ${who}; retry after ${retryAfterS} s`;
}

/**
 * @nestjs/throttler's guard with one budget per API key (per client IP when the request carries
 * no key), shared by all routes rather than one per route; health probes are never limited. It
 * runs after ApiKeyGuard, which names the key.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return this.reflector.getAllAndOverride<boolean>(OPEN_ACCESS, [context.getHandler(), context.getClass()]) ?? false;
  }

  protected override async getTracker(req: KeyedRequest): Promise<string> {
    return req.apiKeyId ?? clientTracker(await super.getTracker(req));
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return rateLimitKey(throttlerName, tracker);
  }
}
