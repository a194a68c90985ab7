import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerLimitDetail, ThrottlerModule } from '@nestjs/throttler';
import { AccessSettings } from '@outlet/config';
import { ApiKeys } from './api-keys';
import { ApiKeyGuard } from './api-key.guard';
import { RateLimitGuard, THROTTLER_NAME, rateLimitMessage } from './rate-limit.guard';
import { ACCESS_SETTINGS, GrpcAccess } from './grpc-access';

const httpRateLimitMessage = (_context: unknown, detail: ThrottlerLimitDetail) =>
  rateLimitMessage(detail.limit, detail.ttl, detail.tracker, detail.timeToBlockExpire);

/**
 * API keys (always: an empty list leaves the API open) and, when OUTLET_RATE_LIMIT is set, rate
 * limits, as global guards in this order: a request is refused 401 before it counts against a
 * key's budget. The throttler's counts live in this gateway's memory (see docs/operating.md, "Who may use it"). GrpcAccess
 * applies the same keys and budgets to gRPC calls.
 */
@Module({})
export class AccessModule {
  static forRoot(settings: AccessSettings): DynamicModule {
    const guards: Provider[] = [{ provide: APP_GUARD, useClass: ApiKeyGuard }];
    const imports: DynamicModule[] = [];
    if (settings.rateLimit) {
      const { limit, windowMs } = settings.rateLimit;
      imports.push(ThrottlerModule.forRoot({ throttlers: [{ name: THROTTLER_NAME, limit, ttl: windowMs }], errorMessage: httpRateLimitMessage }));
      guards.push({ provide: APP_GUARD, useClass: RateLimitGuard });
    }
    return {
      module: AccessModule,
      imports,
      providers: [{ provide: ApiKeys, useValue: new ApiKeys(settings.apiKeys) }, { provide: ACCESS_SETTINGS, useValue: settings }, GrpcAccess, ...guards],
      exports: [GrpcAccess],
    };
  }
}
