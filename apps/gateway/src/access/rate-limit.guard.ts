import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { OPEN_ACCESS } from './api-keys';
import { KeyedRequest } from './api-key.guard';

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
    return req.apiKeyId ?? `ip:${await super.getTracker(req)}`;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}
