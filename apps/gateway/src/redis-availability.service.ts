import { Injectable } from '@nestjs/common';
import { RedisConnectionWatch } from '@outlet/transport';
import { RequestError } from './inference-request';

/** How long a request waits for Redis before it is refused: a live Redis answers in well under 1 ms. */
export const REDIS_CALL_TIMEOUT_MS = 1_000;
/** Retry-After of a refusal: ioredis retries a lost connection at least every 2 s. */
export const REDIS_RETRY_AFTER_S = 3;

/** 503 with Retry-After: the request was refused because Redis is away or does not answer. */
export class RedisUnavailableError extends RequestError {
  constructor(message: string) {
    super(503, `${message}; retry in ${REDIS_RETRY_AFTER_S} s`, REDIS_RETRY_AFTER_S);
  }
}

/**
 * `work` settled within `ms`, else `onTimeout()`'s error. The work is not cancelled: its late
 * outcome is dropped (a late rejection is caught, not left unhandled).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The gateway's request path meets Redis through here. The process's connection is made for
 * BullMQ, so a command sent while Redis is away waits in ioredis's queue until it is back; a
 * request would hang. Instead: refused at once while the connection is not ready, and after
 * REDIS_CALL_TIMEOUT_MS when Redis takes the command but does not answer (a stopped or overloaded
 * server).
 */
@Injectable()
export class RedisAvailability {
  constructor(private readonly watch: RedisConnectionWatch) {}

  /** Run `call` (the Redis commands for `what`), or refuse it with RedisUnavailableError. */
  call<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (!this.watch.ready) return Promise.reject(new RedisUnavailableError(`${what}: Redis is not reachable (${this.watch.state})`));
    return withDeadline(call(), REDIS_CALL_TIMEOUT_MS, () => new RedisUnavailableError(`${what}: Redis did not answer within ${REDIS_CALL_TIMEOUT_MS} ms`));
  }
}
