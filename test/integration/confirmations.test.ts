/**
 * The confirmations consumer against the real broker, FerretDB and a real SMTP server run by
 * the test (smtp-server), whose received mail is read back with mailparser.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfirmationsConsumer } from '../../src/consumers/confirmations.consumer';
import { confirmationMessageId } from '../../src/email/confirmation-email';
import type { OrderConfirmed } from '../../src/events/order-events';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { DEAD_LETTER_HEADERS } from '../../src/kafka/dead-letter';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { claimModel } from '../../src/mongo/models/claim.model';
import { notificationModel, type NotificationModel } from '../../src/mongo/models/notification.model';
import { confirmedEvent, placedEvent } from '../support/order-fixtures';
import { startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, waitUntilDrained, type Tap } from '../support/services';

const received: ParsedMail[] = [];
/** SMTP reply codes to answer the next DATA commands with, instead of accepting them. */
const refusals: number[] = [];

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    simpleParser(stream).then((mail) => {
      const code = refusals.shift();
      if (code === undefined) {
        received.push(mail);
        return callback();
      }
      callback(Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code }));
    }, callback);
  },
});

const log = testLogger('confirmations-test');
let config: ReturnType<typeof testConfig>;
let running: RunningConsumer;
let producer: EventProducer;
let tap: Tap;
let admin: Admin;
let connection: Connection;
let notifications: NotificationModel;

const bare = (messageId: string | undefined) => messageId?.replace(/^<|>$/g, '');
const mailsFor = (orderId: string) => received.filter((m) => bare(m.messageId) === bare(confirmationMessageId(orderId)));
const sentEventsFor = (orderId: string) => tap.of('notification.sent').filter((m) => (m.value as { data: { orderId: string } }).data.orderId === orderId);
const publish = (...events: OrderConfirmed[]) => producer.publish(events.map((event) => ({ topic: 'order.confirmed', key: event.data.orderId, event })));

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  config = testConfig({ KAFKA_NAMESPACE: uniqueName('mail'), MONGO_URL: uniqueMongoUrl('mail'), SMTP_URL: `smtp://127.0.0.1:${port}` });
  running = await startConsumer(createConfirmationsConsumer(), { config, log, retry: { initialDelayMs: 50, maxDelayMs: 200 } });
  producer = await connectEventProducer(createKafka(config, uniqueName('mail-test'), log), config);
  tap = await startTap(config, ['notification.sent', 'order.confirmed.dlq']);
  admin = testKafka().admin();
  await admin.connect();
  connection = await connectMongo(config, log);
  notifications = notificationModel(connection);
});

afterAll(async () => {
  await running?.stop();
  await Promise.all([producer?.disconnect(), tap?.stop(), admin?.disconnect(), connection?.close()]);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

describe('confirmations consumer', () => {
  it('emails a text and HTML confirmation once, though order.confirmed arrives twice, and announces it', async () => {
    const confirmed = confirmedEvent(placedEvent());
    const { orderId } = confirmed.data;
    await publish(confirmed, confirmed);
    const announced = await waitFor(() => sentEventsFor(orderId).length === 2 && sentEventsFor(orderId), 20_000, 'two notification.sent');
    expect(new Set(announced.map((m) => (m.value as { id: string }).id)).size).toBe(1);
    expect(announced[0]!.value).toMatchObject({ data: { channel: 'email', recipient: 'ada@example.com', messageId: confirmationMessageId(orderId) } });

    const mails = mailsFor(orderId);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.to).toMatchObject({ text: 'ada@example.com' });
    expect(mail!.subject).toBe(`Your order ${orderId} is confirmed`);
    expect(mail!.text).toContain('2 × Pizza Margherita');
    expect(mail!.text).toContain('Total: €22.50');
    expect(mail!.html).toContain('<td>1 × Tiramisù</td>');
    expect(mail!.html).toContain('€22.50');
    expect(await notifications.findById(`${orderId}:email`).lean()).toMatchObject({ status: 'sent', attempts: 1, delivery: 'smtp' });
  });

  it('still sends when an instance crashed between claiming the notification and sending it', async () => {
    const confirmed = confirmedEvent(placedEvent());
    const { orderId } = confirmed.data;
    await claimModel(connection).create({
      _id: `email:${orderId}`,
      effect: 'email',
      subjectId: orderId,
      intent: 'send',
      claimToken: 'token-of-the-dead',
      claimedBy: 'confirmations-crashed',
      claimedAt: new Date(Date.now() - 5 * 60_000), // long past the claim lease
    });
    await publish(confirmed); // the redelivery
    await waitFor(() => sentEventsFor(orderId).length === 1, 20_000, 'notification.sent');
    expect(mailsFor(orderId)).toHaveLength(1);
    expect(await notifications.findById(`${orderId}:email`).lean()).toMatchObject({ status: 'sent', attempts: 2, claimedBy: running.instanceId });
  });

  it('records a customer without an email address as skipped and sends nothing', async () => {
    const confirmed = confirmedEvent(placedEvent({ customerEmail: null }));
    await publish(confirmed);
    await waitUntilDrained(admin, config, running.groupId, ['order.confirmed']);
    expect(await notifications.findById(`${confirmed.data.orderId}:email`).lean()).toMatchObject({ status: 'skipped', recipient: null });
    expect(mailsFor(confirmed.data.orderId)).toHaveLength(0);
    expect(sentEventsFor(confirmed.data.orderId)).toHaveLength(0);
  });

  it('tries again after a temporary refusal (451) and sends once', async () => {
    refusals.push(451, 451);
    const confirmed = confirmedEvent(placedEvent());
    await publish(confirmed);
    await waitFor(() => sentEventsFor(confirmed.data.orderId).length === 1, 20_000, 'notification.sent');
    expect(mailsFor(confirmed.data.orderId)).toHaveLength(1);
    expect(refusals).toEqual([]);
  });

  it('dead-letters a permanent refusal (550) and records the notification as failed', async () => {
    refusals.push(550);
    const confirmed = confirmedEvent(placedEvent());
    await publish(confirmed);
    const [dead] = await waitFor(() => tap.of('order.confirmed.dlq').length === 1 && tap.of('order.confirmed.dlq'), 20_000, 'the dead letter');
    expect(dead!.headers[DEAD_LETTER_HEADERS.errorCode]).toBe('MAIL_REJECTED');
    expect(await notifications.findById(`${confirmed.data.orderId}:email`).lean()).toMatchObject({ status: 'failed' });
    expect(await claimModel(connection).findById(`email:${confirmed.data.orderId}`).lean()).toMatchObject({ failedReason: expect.stringMatching(/550/) });
    expect(sentEventsFor(confirmed.data.orderId)).toHaveLength(0);
  });
});
