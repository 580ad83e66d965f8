/**
 * A process whose MongoDB driver lost a store that answers others restarts itself
 * (src/mongo/store-watch.ts). CI's store outage drill caught an API in that state: its server
 * monitor "monitoring" on a connection already closed, the server Unknown and the pool paused,
 * every request answered UNAVAILABLE for minutes while FerretDB served the consumers. The
 * connection said `disconnected` and never `reconnected`; the test gives the API's connection
 * that same view and checks what the API makes of it against the real store.
 */
import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/http/api-server';
import { TEST_JWT_SECRET } from '../support/api-harness';
import { removeTestNamespace, testConfig, testLogger, uniqueMongoUrl, uniqueName, waitFor } from '../support/services';

const STUCK_MS = 10_000; // MONGO_CLIENT_STUCK_MS's least
const name = uniqueName('wedge');
const config = testConfig({ KAFKA_NAMESPACE: name, MONGO_URL: uniqueMongoUrl(name), JWT_SECRET: TEST_JWT_SECRET, MONGO_CLIENT_STUCK_MS: String(STUCK_MS) });
let api: ApiServer | undefined;

afterAll(async () => {
  await api?.stop();
  await removeTestNamespace(config.kafka.namespace, config.mongo.url);
});

describe('a MongoDB client that lost a store which answers others', () => {
  it('makes the API ask for a restart once its connection has been disconnected for MONGO_CLIENT_STUCK_MS, and not while it comes back in time', async () => {
    const wedged: string[] = [];
    api = await startApiServer(config, testLogger('store-wedge-test'), { port: 0, readinessGraceMs: 0, onStoreWedged: (why) => wedged.push(why) });
    const database = new URL(config.mongo.url).pathname.slice(1);
    const connections = mongoose.connections.filter((c) => c.name === database);
    expect(connections).toHaveLength(1); // the API's own
    const connection = connections[0]!;

    // An outage that ends in time: nothing to heal.
    connection.emit('disconnected');
    await new Promise((resolve) => setTimeout(resolve, STUCK_MS / 2));
    connection.emit('reconnected');
    await new Promise((resolve) => setTimeout(resolve, STUCK_MS));
    expect(wedged).toEqual([]);

    // Disconnected for good, by this client's account, while the store answers a fresh connection.
    const since = Date.now();
    connection.emit('disconnected');
    await waitFor(() => wedged.length > 0, 3 * STUCK_MS, 'the API to see its client wedged');
    expect(Date.now() - since).toBeGreaterThanOrEqual(STUCK_MS);
    expect(wedged).toHaveLength(1);
    expect(wedged[0]).toMatch(/^MongoDB answers a connection of its own, but this process has not reached it for \d+ s \(past MONGO_CLIENT_STUCK_MS\): its client is wedged$/);
  }, 60_000);
});
