import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerLimitDetail, ThrottlerModule } from '@nestjs/throttler';
import { AccessSettings } from '@outlet/config';
import { ApiKeys } from './api-keys';
import { ApiKeyGuard } from './api-key.guard';
import { RateLimitGuard } from './rate-limit.guard';

function rateLimitMessage(_context: unknown, detail: ThrottlerLimitDetail): string {
  const who = detail.tracker.startsWith('ip:') ? 'this client' : 'this API key';
  return `rate limit exceeded: more than ${detail.limit} requests in ${detail.ttl} ms from ${who}; retry after ${detail.timeToBlockExpire} s`;
}

/**
 * API keys (always: an empty list leaves the API open) and, when OUTLET_RATE_LIMIT is set, rate
 * limits, as global guards in this order: a request is refused 401 before it counts against a
 * key's budget. The throttler's counts live in this gateway's memory (see the README).
 */
@Module({})
export class AccessModule {
  static forRoot(settings: AccessSettings): DynamicModule {
    const guards: Provider[] = [{ provide: APP_GUARD, useClass: ApiKeyGuard }];
    const imports: DynamicModule[] = [];
    if (settings.rateLimit) {
      const { limit, windowMs } = settings.rateLimit;
      imports.push(ThrottlerModule.forRoot({ throttlers: [{ limit, ttl: windowMs }], errorMessage: rateLimitMessage }));
      guards.push({ provide: APP_GUARD, useClass: RateLimitGuard });
    }
    return {
      module: AccessModule,
      imports,
      providers: [{ provide: ApiKeys, useValue: new ApiKeys(settings.apiKeys) }, ...guards],
      exports: [ApiKeys],
    };
  }
}
