/**
 * Proves, against the real local MongoDB-wire server (FerretDB unless MONGO_URL says
 * otherwise), the features the read models rely on: unique indexes, upserts,
 * findOneAndUpdate, bulkWrite, and the aggregation stages used for reports.
 */
import mongoose, { Schema } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDuplicateKeyError } from '../../src/mongo/mongo-errors';
import { uniqueMongoUrl } from '../support/services';

const connection = mongoose.createConnection();
const Ledger = connection.model(
  'LedgerEntry',
  new Schema({
    orderId: { type: String, required: true, unique: true },
    restaurantId: { type: String, required: true },
    totalCents: { type: Number, required: true },
    appliedEvents: { type: [String], default: [] },
  }),
);

beforeAll(async () => {
  await connection.openUri(uniqueMongoUrl('mongo-compat'));
  await Ledger.init();
});

afterAll(async () => {
  await connection.dropDatabase();
  await connection.close();
});

describe('mongoose against the local MongoDB-wire server', () => {
  it('writes a document and reads it back', async () => {
    await Ledger.create({ orderId: 'o-1', restaurantId: 'r-1', totalCents: 1250 });
    const found = await Ledger.findOne({ orderId: 'o-1' }).lean();
    expect(found).toMatchObject({ orderId: 'o-1', restaurantId: 'r-1', totalCents: 1250 });
  });

  it('enforces a unique index with duplicate key error 11000', async () => {
    const refused = await Ledger.create({ orderId: 'o-1', restaurantId: 'r-2', totalCents: 1 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 11000 });
    expect(isDuplicateKeyError(refused)).toBe(true);
  });

  it('upserts with findOneAndUpdate and applies an event id only once', async () => {
    const apply = (eventId: string) =>
      Ledger.findOneAndUpdate(
        { orderId: 'o-2', appliedEvents: { $ne: eventId } },
        { $inc: { totalCents: 500 }, $push: { appliedEvents: eventId }, $setOnInsert: { restaurantId: 'r-1' } },
        { upsert: true, returnDocument: 'after' },
      ).catch((error: unknown) => {
        // The filter no longer matches once applied, so the upsert collides on orderId: a no-op.
        if (isDuplicateKeyError(error)) return null;
        throw error;
      });
    await apply('e-1');
    await apply('e-1');
    await apply('e-2');
    const doc = await Ledger.findOne({ orderId: 'o-2' }).lean();
    expect(doc?.totalCents).toBe(1000);
    expect(doc?.appliedEvents).toEqual(['e-1', 'e-2']);
  });

  it('runs an upserting bulkWrite', async () => {
    const result = await Ledger.bulkWrite([
      { updateOne: { filter: { orderId: 'o-3' }, update: { $set: { restaurantId: 'r-2', totalCents: 700 } }, upsert: true } },
      { updateOne: { filter: { orderId: 'o-1' }, update: { $set: { totalCents: 1300 } } } },
    ]);
    expect(result.upsertedCount).toBe(1);
    expect(result.modifiedCount).toBe(1);
  });

  it('aggregates with $match, $group ($sum of a field), $sort, $limit and $count', async () => {
    const byRestaurant = await Ledger.aggregate<{ _id: string; revenue: number }>([
      { $match: { totalCents: { $gt: 0 } } },
      { $group: { _id: '$restaurantId', revenue: { $sum: '$totalCents' } } },
      { $sort: { revenue: -1 } },
      { $limit: 5 },
    ]);
    expect(byRestaurant).toEqual([
      { _id: 'r-1', revenue: 2300 },
      { _id: 'r-2', revenue: 700 },
    ]);
    const [counted] = await Ledger.aggregate<{ orders: number }>([{ $match: { restaurantId: 'r-1' } }, { $count: 'orders' }]);
    expect(counted?.orders).toBe(2);
  });
});

/**
 * What compare-and-set writes (analytics' revisions, claim take-overs, captured → refunded)
 * rely on: an update of one document is atomic, as in MongoDB. Stock FerretDB v1 read and then
 * wrote by `_id`, so concurrent conditional updates all "won" (25 of 30 rounds of 8 writers)
 * and concurrent increments were lost; infra/ferretdb/atomic-updates.patch makes it atomic.
 */
describe('single-document updates under concurrency', () => {
  const WRITERS = 8;
  const scopes = () => connection.db!.collection<{ _id: string; revision?: number; token?: string; n?: number }>('concurrency');

  it('a conditional updateOne has exactly one winner among concurrent writers', async () => {
    for (let round = 0; round < 10; round++) {
      const _id = `cas-${round}`;
      await scopes().insertOne({ _id, revision: 0 });
      const results = await Promise.all(Array.from({ length: WRITERS }, () => scopes().updateOne({ _id, revision: 0 }, { $set: { revision: 1 } })));
      expect(results.reduce((sum, r) => sum + r.matchedCount, 0), `round ${round}`).toBe(1);
    }
  });

  it('a conditional findOneAndUpdate hands the document to exactly one writer', async () => {
    for (let round = 0; round < 10; round++) {
      const _id = `take-over-${round}`;
      await scopes().insertOne({ _id, token: 'expired' });
      const taken = await Promise.all(
        Array.from({ length: WRITERS }, (_, w) => scopes().findOneAndUpdate({ _id, token: 'expired' }, { $set: { token: `writer-${w}` } }, { returnDocument: 'after' })),
      );
      const winners = taken.filter((doc) => doc !== null);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(await scopes().findOne({ _id })).toEqual(winners[0]);
    }
  });

  it('concurrent increments, single and in bulk, all count', async () => {
    await scopes().insertOne({ _id: 'counter', n: 0 });
    await Promise.all([
      ...Array.from({ length: 20 }, () => scopes().updateOne({ _id: 'counter' }, { $inc: { n: 1 } })),
      ...Array.from({ length: 10 }, () => scopes().bulkWrite([{ updateOne: { filter: { _id: 'counter' }, update: { $inc: { n: 1 } } } }], { ordered: false })),
    ]);
    expect((await scopes().findOne({ _id: 'counter' }))?.n).toBe(30);
  });
});
