/**
 * A store that stops reading mid-operation (a frozen link, or a server that died under a
 * write): every operation must still end, with a transient error, within its deadline
 * (MONGO_OPERATION_TIMEOUT_MS). The MongoDB driver waits for a full socket's `drain` event with
 * no bound of its own, and socketTimeoutMS does not help once the socket is closed: before the
 * deadline signal (src/mongo/operation-deadline.ts) these operations never settled, which is
 * how drill 4 left placeOrder requests unanswered for good.
 */
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectMongo } from '../../src/mongo/connection';
import { insertEach } from '../../src/mongo/bulk';
import { isTransientMongoError } from '../../src/mongo/mongo-errors';
import { idempotencyModel } from '../../src/mongo/models/idempotency.model';
import { testConfig, testLogger, uniqueName } from '../support/services';
import { startStoreProxy, type StoreProxy } from '../support/store-proxy';

const DEADLINE_MS = 2000;
/** Larger than the loopback's socket buffers, so the driver's write cannot complete while the link is frozen. */
const BIG = 'x'.repeat(12 * 1024 * 1024);

/** Settles with the operation's error, or says it is still pending after `ms`. */
async function outcomeWithin(operation: Promise<unknown>, ms: number): Promise<{ settled: false } | { settled: true; error: unknown }> {
  const pending = new Promise<{ settled: false }>((resolve) => setTimeout(() => resolve({ settled: false }), ms));
  return Promise.race([operation.then(() => ({ settled: true as const, error: undefined }), (error: unknown) => ({ settled: true as const, error })), pending]);
}

let proxy: StoreProxy;
let connection: Connection;

beforeAll(async () => {
  proxy = await startStoreProxy(inject('mongoUrl'));
  const config = testConfig({ MONGO_URL: proxy.url(uniqueName('stall')), MONGO_OPERATION_TIMEOUT_MS: String(DEADLINE_MS) });
  connection = await connectMongo(config, testLogger('store-stall-test'));
  await idempotencyModel(connection).init();
});

afterAll(async () => {
  await connection?.destroy().catch(() => undefined);
  await proxy?.close();
});

describe('a store that stops reading mid-operation', () => {
  it('fails a bulk insert and a query in flight with a transient error within their deadline', async () => {
    const idempotency = idempotencyModel(connection);
    proxy.freeze();
    const insert = insertEach(idempotency.collection, [{ _id: uniqueName('claim'), note: BIG }]);
    const update = idempotency.updateOne({ _id: uniqueName('claim') }, { $set: { requestHash: BIG } }, { upsert: true }).exec();
    const [inserted, updated] = await Promise.all([outcomeWithin(insert, 5 * DEADLINE_MS), outcomeWithin(update, 5 * DEADLINE_MS)]);
    for (const outcome of [inserted, updated]) {
      expect(outcome.settled, 'the operation never settled').toBe(true);
      if (outcome.settled) expect(isTransientMongoError(outcome.error), String(outcome.error)).toBe(true);
    }
  }, 30_000);
});
