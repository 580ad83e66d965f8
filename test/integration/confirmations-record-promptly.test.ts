/**
 * The one window in which a crash sends a confirmation twice is between the mail server
 * accepting the email and its notification being stored (confirmations.consumer.ts). It must
 * be one insert long, not the rest of the round: the scale-out drill SIGKILLed an instance
 * after its email was accepted while the round's other emails were still going out, and the
 * survivor sent that order's email again. Here one round carries two confirmations; the mail
 * server holds the second one's DATA, and the first one's notification must be stored while
 * the second is still held.
 */
import type { AddressInfo } from 'node:net';
import type { Admin } from 'kafkajs';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConfirmationsConsumer } from '../../src/consumers/confirmations.consumer';
import { TOPICS } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { notificationModel, type NotificationModel } from '../../src/mongo/models/notification.model';
import { confirmedEvent, placedEvent } from '../support/order-fixtures';
import { removeTestNamespace, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, waitUntilDrained } from '../support/services';

const log = testLogger('confirmations-promptly-test');
const namespace = uniqueName('mail-promptly');
const mongoUrl = uniqueMongoUrl('mail-promptly');
// One partition, so both confirmations come in one fetch and one round.
let smtpUrl = '';
const config = () => testConfig({ KAFKA_NAMESPACE: namespace, MONGO_URL: mongoUrl, KAFKA_TOPIC_PARTITIONS: '1', SMTP_URL: smtpUrl });
const HELD_RECIPIENT = 'held@example.com';
const accepted: string[] = [];
let releaseHeld: () => void = () => undefined;
const held = new Promise<void>((resolve) => (releaseHeld = resolve));

// A real SMTP server that holds the DATA of one recipient's email until the test lets it go.
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, callback) {
    const to = session.envelope.rcptTo.map((r) => r.address);
    stream.resume();
    stream.on('end', () => {
      const accept = () => {
        accepted.push(...to);
        callback();
      };
      if (to.includes(HELD_RECIPIENT)) void held.then(accept);
      else accept();
    });
  },
});

let running: RunningConsumer | undefined;
let producer: EventProducer;
let admin: Admin;
let notifications: NotificationModel;
let closeStore: () => Promise<void>;

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  running = await startConsumer(createConfirmationsConsumer(), { config: config(), log });
  await running.joined;
  producer = await connectEventProducer(createKafka(config(), uniqueName('mail-promptly'), log), config());
  admin = testKafka().admin();
  await admin.connect();
  const connection = await connectMongo(config(), log);
  notifications = notificationModel(connection);
  closeStore = () => connection.close();
});

afterAll(async () => {
  releaseHeld();
  await running?.stop();
  await Promise.all([producer?.disconnect(), admin?.disconnect(), closeStore?.()]);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await removeTestNamespace(namespace, mongoUrl);
});

describe('a confirmation the mail server accepted', () => {
  it('is recorded at once, while the round is still sending another', async () => {
    const prompt = confirmedEvent(placedEvent({ customerEmail: 'prompt@example.com' }));
    const slow = confirmedEvent(placedEvent({ customerEmail: HELD_RECIPIENT }));
    await producer.publish([prompt, slow].map((event) => ({ topic: TOPICS.orderConfirmed, key: event.data.orderId, event })));

    await waitFor(() => accepted.includes('prompt@example.com'), 30_000);
    // The held email is still on its way: the accepted one must not wait for it to be stored.
    await waitFor(async () => (await notifications.findById(`${prompt.data.orderId}:email`).lean())?.status === 'sent', 5_000);
    expect(accepted).not.toContain(HELD_RECIPIENT);

    releaseHeld();
    await waitUntilDrained(admin, config(), running!.groupId, [TOPICS.orderConfirmed], 60_000);
    expect((await notifications.findById(`${slow.data.orderId}:email`).lean())?.status).toBe('sent');
    expect(accepted.sort()).toEqual([HELD_RECIPIENT, 'prompt@example.com']);
  }, 90_000);
});
