import { Inject, Injectable, Optional } from '@nestjs/common';
import { ThrottlerStorage, normalizeIp } from '@nestjs/throttler';
import * as grpc from '@grpc/grpc-js';
import { AccessSettings } from '@outlet/config';
import { ApiKeys } from './api-keys';
import { THROTTLER_NAME, clientTracker, rateLimitKey, rateLimitMessage } from './rate-limit.guard';

export const ACCESS_SETTINGS = Symbol('ACCESS_SETTINGS');

/** A gRPC call refused before it reached its handler, with the status to answer. */
export class GrpcRefusal extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** What access control reads of a call, unary or streaming: its metadata and its peer. */
export type GrpcCaller = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer'>;

/** The address of a gRPC peer ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000") without its port. */
function peerAddress(peer: string): string {
  const address = peer.replace(/^ipv[46]:/, '').replace(/:\d+$/, '');
  return address.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The gRPC side of access control: the API keys of HTTP, read from the `authorization` metadata,
 * and the same rate-limit budgets (the throttler's storage, one key per API key or client address).
 */
@Injectable()
export class GrpcAccess {
  constructor(
    private readonly keys: ApiKeys,
    @Inject(ACCESS_SETTINGS) private readonly settings: AccessSettings,
    // Present only when OUTLET_RATE_LIMIT is set (ThrottlerModule is imported then).
    @Optional() @Inject(ThrottlerStorage) private readonly storage?: ThrottlerStorage,
  ) {}

  /** Let a keyed call in, or throw a GrpcRefusal: UNAUTHENTICATED, or RESOURCE_EXHAUSTED past the rate limit. */
  async admit(call: GrpcCaller): Promise<void> {
    await this.throttle(call, this.authenticate(call));
  }

  /** The caller's API key (its id; undefined when the API is open), or a GrpcRefusal: UNAUTHENTICATED. */
  authenticate(call: GrpcCaller): string | undefined {
    const [authorization] = call.metadata.get('authorization');
    const check = this.keys.check(authorization === undefined ? undefined : String(authorization), 'metadata');
    if (!check.ok) throw new GrpcRefusal(grpc.status.UNAUTHENTICATED, check.message);
    return check.keyId;
  }

  /** Count one request against the rate limit (of `keyId`, else the caller's address), or a GrpcRefusal: RESOURCE_EXHAUSTED. */
  async throttle(call: GrpcCaller, keyId: string | undefined): Promise<void> {
    const limits = this.settings.rateLimit;
    if (!limits || !this.storage) return;
    const tracker = keyId ?? clientTracker(normalizeIp(peerAddress(call.getPeer())));
    const record = await this.storage.increment(rateLimitKey(THROTTLER_NAME, tracker), limits.windowMs, limits.limit, limits.windowMs, THROTTLER_NAME);
    if (record.isBlocked) {
      throw new GrpcRefusal(grpc.status.RESOURCE_EXHAUSTED, rateLimitMessage(limits.limit, limits.windowMs, tracker, record.timeToBlockExpire));
    }
  }
}
