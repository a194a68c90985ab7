import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import Redis from 'ioredis';

/** Where the watch writes its lines (a Nest Logger in the apps, a fake in tests). */
export interface LineLogger {
  log(line: string): void;
  warn(line: string): void;
}

/** Node's socket errors that only say the server is away or unreachable. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * ioredis's and BullMQ's words for a command that met a closed or unreachable connection, or a
 * cluster between a master's death and its replica's promotion.
 */
const CONNECTION_ERROR_TEXT = /Connection is closed|Stream isn't writeable|Too many Cluster redirections|CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable/;

/** Whether an error only says the Redis connection is down: the process's RedisConnectionWatch reports that, once. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && CONNECTION_ERROR_CODES.has(e.code)) return true;
  return typeof e?.message === 'string' && CONNECTION_ERROR_TEXT.test(e.message);
}

const redisLogger = new Logger('Redis');

/**
 * Give an emitter of Redis errors (an ioredis `duplicate()`, a BullMQ Queue or Worker) an 'error'
 * listener. Without one, ioredis prints "[ioredis] Unhandled error event" with a stack and BullMQ a
 * bare stack, on every reconnection attempt while Redis is away. Connection errors are dropped (the
 * process's one RedisConnectionWatch says the connection is lost and back); any other error is one
 * warning line naming `what` had it.
 */
export function reportErrorsBesidesOutages(emitter: EventEmitter, what: string, logger: LineLogger = redisLogger): void {
  emitter.on('error', (err: Error) => {
    if (!isConnectionError(err)) logger.warn(`${what}: ${err?.message ?? String(err)}`);
  });
}

/** A second connection like `redis` (a subscriber), with its errors handled as above. */
export function duplicateConnection(redis: Redis, what: string): Redis {
  const connection = redis.duplicate();
  reportErrorsBesidesOutages(connection, what);
  return connection;
}

/** The part of an ioredis connection the watch uses. */
type WatchedConnection = EventEmitter & { readonly status: string };

/**
 * Watches the process's main Redis connection and writes one line when it is lost (the first
 * reconnection attempt after it was ready) and one when it is ready again, however many reconnection
 * attempts fail in between; it is also that connection's 'error' listener. A shutdown (`quit()`)
 * does not reconnect, so it writes nothing.
 */
export class RedisConnectionWatch {
  private lostAt?: number;
  private lastError?: string;

  /**
   * @param where  the server, for the lines (host:port, no password)
   * @param whileAway  what the process does while Redis is away, for the "lost" line
   */
  constructor(
    private readonly connection: WatchedConnection,
    private readonly where: string,
    private readonly whileAway: string,
    private readonly logger: LineLogger = redisLogger,
    private readonly now: () => number = Date.now,
  ) {
    connection.on('error', (err: Error) => {
      this.lastError = err?.message ?? String(err);
    });
    connection.on('reconnecting', () => this.lost());
    connection.on('ready', () => this.back());
  }

  /** Whether commands sent now go to Redis at once (not into ioredis's queue for a reconnection). */
  get ready(): boolean {
    return this.connection.status === 'ready';
  }

  /** The connection's state in words, for error messages. */
  get state(): string {
    return this.lostAt === undefined ? `connection ${this.connection.status}` : `lost ${((this.now() - this.lostAt) / 1000).toFixed(1)} s ago${this.lastError ? `: ${this.lastError}` : ''}`;
  }

  private lost(): void {
    if (this.lostAt !== undefined) return;
    this.lostAt = this.now();
    this.logger.warn(`lost Redis at ${this.where} (${this.lastError ?? 'connection closed'}); reconnecting — ${this.whileAway}`);
  }

  private back(): void {
    const lostAt = this.lostAt;
    this.lostAt = undefined;
    this.lastError = undefined;
    if (lostAt !== undefined) this.logger.log(`Redis at ${this.where} is back after ${((this.now() - lostAt) / 1000).toFixed(1)} s`);
  }
}

