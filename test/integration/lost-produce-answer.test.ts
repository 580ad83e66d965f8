/**
 * Reliability finding 1: a send whose batch the broker appended but whose answer was lost.
 * A broker of its own stands behind a loopback proxy (test/support/kafka-proxy.ts) that can
 * lose produce answers; every client reaches the broker through the proxy. The event producer
 * sends an order, loses every answer until its retries run out (the order was appended all the
 * same), then sends the next order to the same partition. kafkajs rolls its sequence number
 * back after a failed send, so a producer that carried on would send the next order under the
 * appended one's sequence: the broker would take it for a duplicate, acknowledge it, and never
 * write it — an acknowledged order lost. The producer must start afresh after a failed send.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { ensureTopics } from '../../src/events/topics';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from '../../src/kafka/event-producer';
import { createLogger } from '../../src/logger';
import { startProxiedKafka, type ProxiedKafka } from '../drills/support/own-services';
import { readTopic } from '../support/api-harness';
import { cancelledEvent, placedEvent } from '../support/order-fixtures';
import { uniqueName } from '../support/services';

const log = createLogger('test', { level: 'silent' });
let config: ReturnType<typeof loadConfig>;

let cluster: ProxiedKafka;
let kafka: Kafka;
let admin: Admin;
let producer: EventProducer;

/** Three cancels of one order: one key, so one partition and one sequence of the producer. */
const placed = placedEvent();
const cancel = (reason: string): OutgoingEvent => ({ topic: 'order.cancelled', key: placed.data.orderId, event: cancelledEvent(placed, reason) });

describe('an order whose produce answer was lost', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    cluster = await startProxiedKafka(1, 1);
    config = loadConfig({ ...process.env, NODE_ENV: 'test', KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_NAMESPACE: uniqueName('lost'), KAFKA_TOPIC_PARTITIONS: '1' });
    // Few, quick retries: the failure under test is the one after the last retry.
    kafka = new Kafka({ clientId: uniqueName('lost'), brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, config, log);
    producer = await connectEventProducer(kafka, config);
  });

  afterAll(async () => {
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
    await cluster?.remove();
  });

  it('never makes the broker take the next order for a duplicate: every acknowledged order is in the log', async () => {
    await producer.publish([cancel('first')]);
    cluster.proxy.loseProduceAnswers(10);
    await expect(producer.publish([cancel('answer lost')])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(cluster.proxy.lost).toBeGreaterThanOrEqual(3); // the send and both retries were appended, their answers lost
    cluster.proxy.loseProduceAnswers(0);

    await producer.publish([cancel('acknowledged after the failure')]);
    const reasons = (await readTopic(kafka, config, 'order.cancelled')).map((m) => (JSON.parse(String(m.value)) as { data: { reason: string } }).data.reason);
    expect(reasons).toContain('first');
    expect(reasons).toContain('acknowledged after the failure');
  });
});
