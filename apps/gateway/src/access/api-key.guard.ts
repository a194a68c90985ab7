import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request, Response } from 'express';
import { ApiKeys, OPEN_ACCESS, bearerChallenge } from './api-keys';

/** The request's key, set by ApiKeyGuard for the rate limiter (which key, never the key itself). */
export type KeyedRequest = Request & { apiKeyId?: string };

/**
 * Every controller route needs `Authorization: Bearer <key>` when OUTLET_API_KEYS is set, except
 * those marked @OpenAccess(). Bull Board and /docs are Express middleware, outside Nest's guards:
 * the board keeps its own basic auth.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.open || this.reflector.getAllAndOverride<boolean>(OPEN_ACCESS, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<KeyedRequest>();
    const check = this.keys.check(req.headers.authorization, 'header');
    if (!check.ok) {
      context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', bearerChallenge(check));
      throw new UnauthorizedException(check.message);
    }
    req.apiKeyId = check.keyId;
    return true;
  }
}
