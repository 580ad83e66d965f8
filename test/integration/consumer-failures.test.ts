/**
 * What the shared runner does with failures (src/kafka/failure-policy.ts), against the real
 * broker and FerretDB, with a small module of its own driven by each order.cancelled event's
 * reason:
 *   `bug`      throws a TypeError (a code bug: stop, never dead-letter)
 *   `held`     fails retriably for ever, bound to the message (a claim held elsewhere)
 *   anything else records the event
 * Each test has a namespace of its own, with one partition per topic, so offsets are plain.
 * "Restarting" is what a supervisor does: stop the crashed consumer, start a new one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config';
import { AppError } from '../../src/errors';
import { physicalTopic } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { settledFailed, settledOk, type ConsumerModule } from '../../src/kafka/consumer-module';
import { DEAD_LETTER_HEADERS } from '../../src/kafka/dead-letter';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { RESTARTS_COLLECTION } from '../../src/kafka/restart-ledger';
import type { RetryOptions } from '../../src/retry';
import { connectMongo } from '../../src/mongo/connection';
import { cancelledEvent, placedEvent } from '../support/order-fixtures';
import { startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, type Tap } from '../support/services';

const log = testLogger('runner-failures-test');
const attempts = new Map<string, number>();
const recorded: string[] = [];

const failuresModule: ConsumerModule<'order.cancelled', null, null, { eventId: string; reason: string }> = {
  name: 'runner-failures',
  topics: ['order.cancelled'],
  setup: async () => null,
  load: async () => null,
  decide: (message) => ({ eventId: message.event.id, reason: message.event.data.reason ?? '' }),
  async persist(effects) {
    return effects.map(({ eventId, reason }) => {
      attempts.set(eventId, (attempts.get(eventId) ?? 0) + 1);
      if (reason === 'bug') return settledFailed(new TypeError("Cannot read properties of undefined (reading 'orderId')"));
      if (reason === 'held') return settledFailed(new AppError('IN_PROGRESS', `the payment of ${eventId} is in progress elsewhere`, { retriable: true }));
      recorded.push(eventId);
      return settledOk({ eventId, reason });
    });
  },
  emits: () => [],
  describe: () => 'recorded',
};

/** One test's own namespace and database, with what it needs to publish, watch and restart. */
interface World {
  readonly config: Config;
  readonly admin: Admin;
  readonly events: EventProducer;
  readonly tap: Tap;
  readonly running: RunningConsumer[];
  start(retry?: RetryOptions): Promise<RunningConsumer>;
  publish(reasons: readonly string[]): Promise<string[]>;
  committed(): Promise<number>;
}

const worlds: World[] = [];

async function world(env: NodeJS.ProcessEnv = {}): Promise<World> {
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName('failures'), MONGO_URL: uniqueMongoUrl('failures'), KAFKA_TOPIC_PARTITIONS: '1', ...env });
  const running: RunningConsumer[] = [];
  const start = async (retry: RetryOptions = { initialDelayMs: 20, maxDelayMs: 50 }) => {
    const consumer = await startConsumer(failuresModule, { config, log, retry });
    running.push(consumer);
    return consumer;
  };
  await (await start()).stop(); // creates the namespace's topics
  const admin = testKafka().admin();
  await admin.connect();
  const events = await connectEventProducer(createKafka(config, uniqueName('failures-producer'), log), config);
  const tap = await startTap(config, ['order.cancelled.dlq', 'order.cancelled.parked']);
  const w: World = {
    config,
    admin,
    events,
    tap,
    running,
    start,
    async publish(reasons) {
      const cancels = reasons.map((reason) => cancelledEvent(placedEvent(), reason));
      await events.publish(cancels.map((event) => ({ topic: 'order.cancelled', key: event.data.orderId, event })));
      return cancels.map((event) => event.id);
    },
    async committed() {
      const [offsets] = await admin.fetchOffsets({ groupId: running[0]!.groupId, topics: [physicalTopic(config, 'order.cancelled')] });
      return Math.max(0, Number(offsets?.partitions[0]?.offset ?? -1));
    },
  };
  worlds.push(w);
  return w;
}

/** Waits for the consumer to stop itself, then stops it for good, as its process does before exiting 1. */
async function crashOf(consumer: RunningConsumer): Promise<unknown> {
  const error = await consumer.crashed.catch((e: unknown) => e);
  await consumer.stop();
  return error;
}

const idOf = (value: unknown) => (value as { id?: string }).id;

afterEach(async () => {
  for (const w of worlds) await Promise.allSettled(w.running.map((r) => r.stop()));
});

afterAll(async () => {
  for (const w of worlds) await Promise.allSettled([w.tap.stop(), w.events.disconnect(), w.admin.disconnect()]);
});

describe('consumer runner failures', () => {
  it('stops at a TypeError without dead-lettering or committing; after N restarts in a row at it, parks it and goes on', async () => {
    const w = await world({ CONSUMER_RESTARTS_BEFORE_PARKING: '2' });
    const [bug, next] = await w.publish(['bug', 'fine']);

    for (const restart of [1, 2]) {
      const error = await crashOf(await w.start());
      expect(error, `stop ${restart}`).toBeInstanceOf(TypeError);
      expect(attempts.get(bug!)).toBe(restart);
      // Not committed past the failed message (the round's other message may be done: it is redone).
      expect(await w.committed()).toBe(0);
    }
    expect(w.tap.of('order.cancelled.dlq')).toEqual([]);
    // The count survived the consumer's restart: it is in MongoDB.
    const connection = await connectMongo(w.config, log);
    try {
      expect(await connection.collection(RESTARTS_COLLECTION).findOne({})).toMatchObject({ offset: '0', restarts: 2, reason: expect.stringMatching(/reading 'orderId'/) });

      const third = await w.start();
      const [parked] = await w.tap.waitFor('order.cancelled.parked', 1);
      expect(idOf(parked!.value)).toBe(bug);
      expect(parked!.headers[DEAD_LETTER_HEADERS.parkedAfter]).toBe('2 restarts in a row at this message');
      expect(parked!.headers[DEAD_LETTER_HEADERS.errorCode]).toBe('TypeError');
      expect(parked!.headers[DEAD_LETTER_HEADERS.originalOffset]).toBe('0');
      await waitFor(() => recorded.includes(next!), 20_000, 'the message after the parked one');
      await waitFor(async () => (await w.committed()) === 2, 10_000, 'the commit past both');
      expect(attempts.get(bug!)).toBe(3);
      expect(w.tap.of('order.cancelled.dlq')).toEqual([]);
      await waitFor(async () => (await connection.collection(RESTARTS_COLLECTION).countDocuments({})) === 0, 10_000, 'the restart record to be cleared');
      await third.stop();
    } finally {
      await connection.close();
    }
  });

  it('parks a message still failing retriably past its budget, with the reason, and goes on', async () => {
    const w = await world();
    const [held, next] = await w.publish(['held', 'fine']);
    await w.start({ retries: 3, initialDelayMs: 20, maxDelayMs: 50, deadlineMs: 60_000 });
    const [parked] = await w.tap.waitFor('order.cancelled.parked', 1, 30_000);
    expect(idOf(parked!.value)).toBe(held);
    expect(parked!.headers[DEAD_LETTER_HEADERS.errorCode]).toBe('IN_PROGRESS');
    expect(parked!.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/in progress elsewhere/);
    expect(parked!.headers[DEAD_LETTER_HEADERS.parkedAfter]).toMatch(/^3 retries over \d+ ms$/);
    await waitFor(() => recorded.includes(next!), 20_000, 'the message after the parked one');
    await waitFor(async () => (await w.committed()) === 2, 10_000, 'the commit past both');
    expect(attempts.get(held!)).toBe(5); // a guess, a read, three retries: then never again
    expect(w.tap.of('order.cancelled.dlq')).toEqual([]);
  });

  it('trips the breaker on a burst of poison: stops after DEAD_LETTER_BREAKER_LIMIT dead letters, the rest uncommitted', async () => {
    const w = await world({ DEAD_LETTER_BREAKER_LIMIT: '2', DEAD_LETTER_BREAKER_WINDOW_MS: '60000' });
    const raw = createKafka(w.config, uniqueName('poison'), log).producer();
    await raw.connect();
    await raw.send({ topic: physicalTopic(w.config, 'order.cancelled'), messages: [1, 2, 3, 4].map((n) => ({ key: `bad-${n}`, value: `not json ${n} {` })) });
    await raw.disconnect();
    const [next] = await w.publish(['fine']);

    const error = await crashOf(await w.start());
    expect((error as Error).message).toMatch(/not JSON/);
    await w.tap.waitFor('order.cancelled.dlq', 2);
    await sleep(1_000); // time for a third to show up, were there one
    expect(w.tap.of('order.cancelled.dlq').map((m) => m.key)).toEqual(['bad-1', 'bad-2']);
    expect(await w.committed()).toBeLessThan(4);
    expect(recorded).not.toContain(next);
  });

  it('ends a retry at once when the group rebalances, uncommitted, so a joining member is not kept waiting', async () => {
    const w = await world();
    const [held] = await w.publish(['held']);
    // A budget far longer than the group's rebalance timeout (60 s): only the rebalance can end it.
    const longRetry = { retries: 10_000, initialDelayMs: 200, maxDelayMs: 500, deadlineMs: 120_000 };
    const first = await w.start(longRetry);
    await first.joined;
    await waitFor(() => (attempts.get(held!) ?? 0) >= 4, 20_000, 'the retries to be under way');

    const joinStartedAt = Date.now();
    const second = await w.start(longRetry);
    await second.joined;
    expect(Date.now() - joinStartedAt).toBeLessThan(20_000);
    expect(await w.committed()).toBe(0);
    expect(w.tap.of('order.cancelled.parked')).toEqual([]);
  });
});
