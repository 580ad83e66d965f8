/**
 * A store that stops reading mid-operation (a frozen link, or a server that died under a
 * write): every operation must still end, with a transient error, within its deadline
 * (MONGO_OPERATION_TIMEOUT_MS). The MongoDB driver waits for a full socket's `drain` event with
 * no bound of its own, and socketTimeoutMS does not help once the socket is closed: before the
 * deadline signal (src/mongo/operation-deadline.ts) these operations never settled, which is
 * how drill 4 left placeOrder requests unanswered for good.
 */
import { createServer, Socket, type Server } from 'node:net';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectMongo } from '../../src/mongo/connection';
import { insertEach } from '../../src/mongo/bulk';
import { isTransientMongoError } from '../../src/mongo/mongo-errors';
import { idempotencyModel } from '../../src/mongo/models/idempotency.model';
import { testConfig, testLogger, uniqueName } from '../support/services';

const DEADLINE_MS = 2000;
/** Larger than the loopback's socket buffers, so the driver's write cannot complete while the link is frozen. */
const BIG = 'x'.repeat(12 * 1024 * 1024);

/** A loopback TCP proxy to the store that can freeze: it stops reading from, and writing to, every connection. */
interface FreezingProxy {
  readonly port: number;
  freeze(): void;
  close(): Promise<void>;
}

async function startFreezingProxy(target: { host: string; port: number }): Promise<FreezingProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server: Server = createServer((client) => {
    if (frozen) {
      // Accepted and never read: a connection made while frozen stalls too.
      sockets.add(client);
      client.pause();
      return;
    }
    const upstream = new Socket();
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    upstream.connect(target.port, target.host);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    freeze() {
      frozen = true;
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Settles with the operation's error, or says it is still pending after `ms`. */
async function outcomeWithin(operation: Promise<unknown>, ms: number): Promise<{ settled: false } | { settled: true; error: unknown }> {
  const pending = new Promise<{ settled: false }>((resolve) => setTimeout(() => resolve({ settled: false }), ms));
  return Promise.race([operation.then(() => ({ settled: true as const, error: undefined }), (error: unknown) => ({ settled: true as const, error })), pending]);
}

let proxy: FreezingProxy;
let connection: Connection;

beforeAll(async () => {
  const store = new URL(inject('mongoUrl'));
  proxy = await startFreezingProxy({ host: store.hostname, port: Number(store.port || 27017) });
  const config = testConfig({ MONGO_URL: `mongodb://127.0.0.1:${proxy.port}/${uniqueName('stall')}`, MONGO_OPERATION_TIMEOUT_MS: String(DEADLINE_MS) });
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
