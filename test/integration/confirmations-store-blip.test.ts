/**
 * The store goes away for a moment between a confirmation email going out and its
 * notification being recorded (drill 4 sent two orders their confirmation twice this way).
 * The round fails and is retried by the same instance, which finds its own claim and no
 * notification: it must record the email it already sent, not send it again.
 */
import type { AddressInfo } from 'node:net';
import type { Admin } from 'kafkajs';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConfirmationsConsumer } from '../../src/consumers/confirmations.consumer';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { notificationModel } from '../../src/mongo/models/notification.model';
import { confirmedEvent, placedEvent } from '../support/order-fixtures';
import { removeTestNamespace, testConfig, testKafka, testLogger, uniqueName, waitUntilDrained } from '../support/services';
import { startStoreProxy, type StoreProxy } from '../support/store-proxy';

const STORE_AWAY_MS = 3000;
const log = testLogger('confirmations-blip-test');
const namespace = uniqueName('mail-blip');
const database = uniqueName('mail-blip');
let proxy: StoreProxy;
let sends = 0;

// A real SMTP server; the first message it takes cuts the store off for a moment.
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => {
      if (sends++ === 0) proxy.cut(STORE_AWAY_MS);
      callback();
    });
  },
});

let running: RunningConsumer | undefined;
let producer: EventProducer;
let admin: Admin;

beforeAll(async () => {
  proxy = await startStoreProxy(inject('mongoUrl'));
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  const config = testConfig({ KAFKA_NAMESPACE: namespace, MONGO_URL: proxy.url(database), SMTP_URL: `smtp://127.0.0.1:${port}` });
  running = await startConsumer(createConfirmationsConsumer(), { config, log, retry: { initialDelayMs: 100, maxDelayMs: 500 } });
  producer = await connectEventProducer(createKafka(config, uniqueName('mail-blip'), log), config);
  admin = testKafka().admin();
  await admin.connect();
});

afterAll(async () => {
  await running?.stop();
  await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await proxy?.close();
  await removeTestNamespace(namespace, `${inject('mongoUrl').replace(/\/[^/]*$/, '')}/${database}`);
});

describe('a confirmation sent just before the store went away', () => {
  it('is recorded once the store is back, and not sent again', async () => {
    const confirmed = confirmedEvent(placedEvent());
    await producer.publish([{ topic: 'order.confirmed', key: confirmed.data.orderId, event: confirmed }]);
    await waitUntilDrained(admin, testConfig({ KAFKA_NAMESPACE: namespace }), running!.groupId, ['order.confirmed'], 60_000);

    expect(sends).toBe(1);
    const connection = await connectMongo(testConfig({ MONGO_URL: proxy.url(database) }), log);
    try {
      expect(await notificationModel(connection).findById(`${confirmed.data.orderId}:email`).lean()).toMatchObject({ status: 'sent' });
    } finally {
      await connection.close();
    }
  }, 90_000);
});
