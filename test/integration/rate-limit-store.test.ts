/**
 * The shared rate-limit store on the real MongoDB-wire server (FerretDB v1, which has no TTL
 * indexes): a counter whose window has passed is ignored and replaced when next read, and the
 * sweep deletes expired counters, so the collection holds only live windows.
 */
import mongoose, { type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { createRateLimits, RATE_LIMITS_COLLECTION, RateLimitedError, type RateLimits } from '../../src/rate-limits/rate-limits';
import { testConfig, uniqueMongoUrl, uniqueName } from '../support/services';

let mongo: Connection;
let limits: RateLimits;
const log = createLogger('rate-limit-store', { level: 'silent' });
const refusalOf = (promise: Promise<void>) => promise.then(() => null, (error: unknown) => error);

beforeAll(async () => {
  mongo = await mongoose.createConnection(uniqueMongoUrl('rate-limit-store')).asPromise();
  const config = testConfig({ RATE_LIMIT_STORE: 'mongo', RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: '2' });
  limits = await createRateLimits(config.limits, { db: mongo.db, log, windowSeconds: 1, sweepEveryMs: 300 });
});

afterAll(async () => {
  limits?.stop();
  await mongo?.dropDatabase().catch(() => undefined);
  await mongo?.close();
});

describe('the mongo rate-limit store', () => {
  it('refuses past the budget, then counts afresh once the window has passed, without a TTL index', async () => {
    const customer = uniqueName('customer');
    await limits.orderMutations.consume(customer);
    await limits.orderMutations.consume(customer);
    const refusal = await refusalOf(limits.orderMutations.consume(customer));
    expect(refusal).toBeInstanceOf(RateLimitedError);
    expect((refusal as RateLimitedError).retryAfterSeconds).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await refusalOf(limits.orderMutations.consume(customer))).toBeNull();
    const indexes = await mongo.collection(RATE_LIMITS_COLLECTION).indexes();
    expect(indexes.some((index) => 'expireAfterSeconds' in index)).toBe(false);
  });

  it('deletes expired counters', async () => {
    await limits.orderMutations.consume(uniqueName('customer'));
    expect(await mongo.collection(RATE_LIMITS_COLLECTION).countDocuments()).toBeGreaterThan(0);
    const deadline = Date.now() + 5000;
    while ((await mongo.collection(RATE_LIMITS_COLLECTION).countDocuments()) > 0) {
      if (Date.now() > deadline) throw new Error('expired counters were not deleted');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
