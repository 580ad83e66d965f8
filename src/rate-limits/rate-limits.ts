import type { mongo } from 'mongoose';
import { RateLimiterMemory, RateLimiterMongo, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';

/**
 * Too many requests of one kind. `retryAfterSeconds` says when the window frees a place; it is
 * null for a cap on things held at once (subscriptions on a socket), which frees when one ends.
 */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super('RATE_LIMITED', message, { retriable: true });
  }
}

/** A budget of requests per key and window. */
export interface Limiter {
  /** Counts one request of `key`; throws RateLimitedError when its budget is spent. */
  consume(key: string): Promise<void>;
}

/** The API's rate limits (their numbers: config.limits). */
export interface RateLimits {
  /** placeOrder and cancelOrder together, per customer (token `sub`). */
  readonly orderMutations: Limiter;
  /** Requests without a valid token, HTTP or WebSocket, per client address. */
  readonly anonymous: Limiter;
  /** WebSocket connections per user. */
  readonly sockets: Limiter;
  /** Subscribe messages per socket: always counted in memory, a socket lives on one instance. */
  readonly subscribes: Limiter;
  /** Stops the sweep of expired counters (mongo store). */
  stop(): void;
}

/** The one collection of every limiter's counters, each document `{ key, points, expire }`. */
export const RATE_LIMITS_COLLECTION = 'rate_limits';

export interface RateLimitsOptions {
  /** The database of the `mongo` store (required when config.limits.store is `mongo`). */
  readonly db?: mongo.Db;
  readonly log: Logger;
  /** Length of every window. @default 60 (the config's numbers are per minute) */
  readonly windowSeconds?: number;
  /** How often expired counters are deleted from the mongo store. @default 60000 */
  readonly sweepEveryMs?: number;
}

function limiterOf(limiter: RateLimiterAbstract, what: string): Limiter {
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        const retryAfterSeconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        throw new RateLimitedError(`too many ${what}; try again in ${retryAfterSeconds} s`, retryAfterSeconds);
      }
    },
  };
}

/**
 * The limiters, from rate-limiter-flexible. In memory each API instance counts on its own; with
 * the `mongo` store the counters are shared. That store is the library's RateLimiterMongo
 * without its TTL index (FerretDB v1 has none): it already ignores and replaces a counter whose
 * `expire` has passed when it reads it, and a sweep here deletes such counters so the
 * collection holds only live windows. A unique index on `key` makes two instances that create
 * the same counter at once agree on one. While MongoDB fails, each instance counts in memory.
 */
export async function createRateLimits(config: Config['limits'], options: RateLimitsOptions): Promise<RateLimits> {
  const duration = options.windowSeconds ?? 60;
  let sweep: NodeJS.Timeout | undefined;
  let shared = (keyPrefix: string, points: number): RateLimiterAbstract => new RateLimiterMemory({ keyPrefix, points, duration });
  if (config.store === 'mongo') {
    const { db, log } = options;
    if (!db) throw new Error('the mongo rate-limit store needs a database');
    const counters = db.collection(RATE_LIMITS_COLLECTION);
    await counters.createIndex({ key: 1 }, { unique: true });
    shared = (keyPrefix, points) =>
      new RateLimiterMongo({
        storeClient: db,
        tableName: RATE_LIMITS_COLLECTION,
        disableIndexesCreation: true,
        keyPrefix,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
      });
    sweep = setInterval(() => {
      counters.deleteMany({ expire: { $lte: new Date() } }).catch((error: unknown) => log.warn({ err: error }, 'could not delete expired rate-limit counters'));
    }, options.sweepEveryMs ?? 60_000);
    sweep.unref();
  }
  return {
    orderMutations: limiterOf(shared('order-mutations', config.orderMutationsPerMinute), 'orders placed or cancelled'),
    anonymous: limiterOf(shared('anonymous', config.anonymousPerMinute), 'requests without a valid token from this address'),
    sockets: limiterOf(shared('sockets', config.socketsPerMinute), 'WebSocket connections'),
    subscribes: limiterOf(new RateLimiterMemory({ keyPrefix: 'subscribes', points: config.subscribesPerMinute, duration }), 'subscriptions on this socket'),
    stop: () => clearInterval(sweep),
  };
}
