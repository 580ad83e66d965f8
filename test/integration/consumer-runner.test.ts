/**
 * The shared consumer runner against the real broker and FerretDB, with a small module of
 * its own: what it does is driven by the cancel reason of each order.cancelled event.
 *   `flaky:N`  fails retriably N times, then records the event
 *   `poison`   fails non-retriably
 *   `slow:MS`  takes MS milliseconds to record the event
 *   `hang`     never returns from its first attempt until the test calls releaseHung()
 *   `wedged`   fails as if MongoDB were unreachable while `clientWedged` is true
 *   anything else records the event
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Producer } from 'kafkajs';
import { MongoNetworkError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import { MAX_MESSAGE_BYTES, physicalTopic, type TopicName } from '../../src/events/topics';
import { DEAD_LETTER_HEADERS } from '../../src/kafka/dead-letter';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { settledFailed, settledOk, type ConsumerModule } from '../../src/kafka/consumer-module';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { createKafka } from '../../src/kafka/client';
import { cancelledEvent, placedEvent } from '../support/order-fixtures';
import { startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, type Tap } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('runner'), MONGO_URL: uniqueMongoUrl('runner') });
const log = testLogger('runner-test');
const topic = physicalTopic(config, 'order.cancelled');

/** Per event id: how often the module was asked to persist it, and how often it was recorded. */
const attempts = new Map<string, number>();
const recorded: string[] = [];
/** The size of each round `persist` was given. */
const roundSizes: number[] = [];

type Effects = { readonly kind: 'record'; readonly eventId: string; readonly reason: string } | { readonly kind: 'skip' };

/** The first attempt of a `hang` event waits for this, and then fails retriably. */
let releaseHung: () => void = () => undefined;
const hung = new Promise<void>((resolve) => (releaseHung = resolve));

/** While true, `wedged` events fail as a driver that lost the store would (the store itself is fine). */
let clientWedged = true;

async function persistOne(effects: Effects, deps: { seen: Set<string> }): Promise<Effects> {
  if (effects.kind === 'skip') return effects;
  const attempt = (attempts.get(effects.eventId) ?? 0) + 1;
  attempts.set(effects.eventId, attempt);
  const [rule, arg] = effects.reason.split(':');
  if (rule === 'flaky' && attempt <= Number(arg)) throw new AppError('UNAVAILABLE', `flaky attempt ${attempt}`, { retriable: true });
  if (rule === 'poison') throw new AppError('PAYMENT_REJECTED', 'this order cannot be handled');
  if (rule === 'slow') await sleep(Number(arg));
  if (rule === 'wedged' && clientWedged) throw new MongoNetworkError('connect ECONNREFUSED (a client that lost the store)');
  if (rule === 'hang' && attempt === 1) {
    await hung;
    throw new AppError('UNAVAILABLE', 'released after hanging', { retriable: true });
  }
  deps.seen.add(effects.eventId);
  recorded.push(effects.eventId);
  return effects;
}

const specModule: ConsumerModule<'order.cancelled', { seen: Set<string> }, ReadonlySet<string>, Effects> = {
  name: 'runner-spec',
  topics: ['order.cancelled'],
  setup: async () => ({ seen: new Set() }),
  load: async (_messages, deps) => new Set(deps.seen),
  decide: (message, seen) => (seen.has(message.event.id) ? { kind: 'skip' } : { kind: 'record', eventId: message.event.id, reason: message.event.data.reason ?? '' }),
  async persist(effects, deps) {
    roundSizes.push(effects.length);
    return Promise.all(effects.map((e) => persistOne(e, deps).then(settledOk, settledFailed)));
  },
  emits: () => [],
  describe: (effects) => effects.kind,
};

let admin: Admin;
let events: EventProducer;
let raw: Producer;
let tap: Tap;
let running: RunningConsumer | undefined;

const start = () => startConsumer(specModule, { config, log, retry: { initialDelayMs: 20, maxDelayMs: 100 } });

async function committedTotal(groupId: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

async function publishCancels(reasons: readonly string[]): Promise<string[]> {
  const cancels = reasons.map((reason) => cancelledEvent(placedEvent(), reason));
  await events.publish(cancels.map((event) => ({ topic: 'order.cancelled', key: event.data.orderId, event })));
  return cancels.map((event) => event.id);
}

const publishCancel = async (reason: string) => (await publishCancels([reason]))[0]!;

beforeAll(async () => {
  const kafka = createKafka(config, uniqueName('runner-test'), log);
  admin = testKafka().admin();
  await admin.connect();
  running = await start(); // creates the namespace's topics
  events = await connectEventProducer(kafka, config);
  raw = kafka.producer();
  await raw.connect();
  tap = await startTap(config, ['order.cancelled.dlq' as TopicName]);
});

afterAll(async () => {
  await running?.stop();
  await Promise.all([tap?.stop(), events?.disconnect(), raw?.disconnect(), admin?.disconnect()]);
});

describe('consumer runner', () => {
  it('retries a retriable failure, persists once and commits only afterwards', async () => {
    const id = await publishCancel('flaky:3');
    await waitFor(() => recorded.includes(id), 20_000, 'the flaky event to be recorded');
    expect(attempts.get(id)).toBe(4);
    expect(recorded.filter((r) => r === id)).toHaveLength(1);
    await waitFor(async () => (await committedTotal(running!.groupId)) === 1, 10_000, 'the offset commit');
  });

  it('dead-letters a message that is not JSON, one of the wrong schema, and a poison one; then carries on', async () => {
    await raw.send({ topic, messages: [{ key: 'bad-1', value: 'this is not json {' }] });
    await raw.send({ topic, messages: [{ key: 'bad-2', value: JSON.stringify({ id: 'x', type: 'order.cancelled', data: {} }), headers: { trace: 't-1' } }] });
    const poisonId = await publishCancel('poison');
    const afterwards = await publishCancel('fine');

    const dead = await tap.waitFor('order.cancelled.dlq', 3);
    const byKey = (key: string) => dead.find((m) => m.key === key)!;
    expect(byKey('bad-1').value).toBe('this is not json {');
    expect(byKey('bad-1').headers[DEAD_LETTER_HEADERS.reason]).toMatch(/not JSON/);
    expect(byKey('bad-1').headers[DEAD_LETTER_HEADERS.errorCode]).toBe('INVALID_EVENT');
    expect(byKey('bad-2').headers[DEAD_LETTER_HEADERS.reason]).toMatch(/order\.cancelled: .*id/);
    expect(byKey('bad-2').headers.trace).toBe('t-1'); // original headers are kept
    expect(byKey('bad-2').headers[DEAD_LETTER_HEADERS.consumerGroup]).toBe(running!.groupId);
    expect(byKey('bad-2').headers[DEAD_LETTER_HEADERS.originalTopic]).toBe('order.cancelled');
    expect(byKey('bad-2').headers[DEAD_LETTER_HEADERS.originalOffset]).toMatch(/^\d+$/);
    const poison = dead.find((m) => (m.value as { id?: string }).id === poisonId)!;
    expect(poison.headers[DEAD_LETTER_HEADERS.errorCode]).toBe('PAYMENT_REJECTED');
    expect(attempts.get(poisonId)).toBe(1); // not retried

    await waitFor(() => recorded.includes(afterwards), 20_000, 'the next good message');
    await waitFor(async () => (await committedTotal(running!.groupId)) === 5, 10_000, 'every offset committed');
  });

  it('works a backlog in rounds, retrying only the failed message of a round while the others are recorded once', async () => {
    await running!.stop();
    const before = await committedTotal(running!.groupId);
    const ids = await publishCancels(Array.from({ length: 60 }, (_, i) => (i === 10 ? 'flaky:2' : 'fine')));
    roundSizes.length = 0;
    running = await start(); // the 60 wait in the log: they arrive as batches
    await waitFor(() => ids.every((id) => recorded.includes(id)), 30_000, 'the backlog to be recorded');
    expect(Math.max(...roundSizes)).toBeGreaterThan(1);
    expect(roundSizes.length).toBeLessThan(30); // far fewer persists than messages
    expect(attempts.get(ids[10]!)).toBe(3);
    for (const id of ids) expect(recorded.filter((r) => r === id)).toHaveLength(1);
    await waitFor(async () => (await committedTotal(running!.groupId)) === before + 60, 10_000, 'every offset committed');
  });

  it('stops gracefully: the in-flight message is finished and committed, and not redone by the next instance', async () => {
    const id = await publishCancel('slow:1500');
    await waitFor(() => attempts.get(id) === 1, 20_000, 'the slow message to start');
    const committedBefore = await committedTotal(running!.groupId);
    await running!.stop();
    expect(recorded).toContain(id);
    expect(await committedTotal(running!.groupId)).toBe(committedBefore + 1);

    running = await start();
    await running.joined;
    const next = await publishCancel('after restart');
    await waitFor(() => recorded.includes(next), 20_000, 'the message after the restart');
    expect(attempts.get(id)).toBe(1);
  });

  it('never dead-letters a message whose failure stays retriable: it is delivered again until it passes', async () => {
    // A short retry window per delivery, so the failure outlasts it several times over.
    await running!.stop();
    running = await startConsumer(specModule, { config, log, retry: { retries: 2, initialDelayMs: 10, maxDelayMs: 20 } });
    await running.joined;
    const id = await publishCancel('flaky:8');
    await waitFor(() => recorded.includes(id), 60_000, 'the long-failing message to pass');
    expect(attempts.get(id)).toBe(9);
    expect(recorded.filter((r) => r === id)).toHaveLength(1);
    expect(tap.of('order.cancelled.dlq').some((m) => (m.value as { id?: string }).id === id)).toBe(false);
  });
});

describe('a round that hangs', () => {
  it('stops the consumer, uncommitted, once a round has been at a self-bounded step past CONSUMER_STUCK_ROUND_MS; the message is still done once', async () => {
    // Every call a round makes has its own bound; a call that never returns all the same stalls
    // every partition of the consumer for good (CI's store outage drill: 232 messages unworked).
    await running?.stop();
    const stuckRoundMs = 1500;
    running = await startConsumer(specModule, { config: { ...config, consumers: { ...config.consumers, stuckRoundMs } }, log });
    await running.joined;
    const before = await committedTotal(running.groupId);
    const id = await publishCancel('hang');
    const started = Date.now();
    const reason = await running.crashed.catch((error: unknown) => error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(stuckRoundMs);
    expect(String((reason as Error).message)).toMatch(/^a round of order\.cancelled partition \d+ has been at persist for \d+ s, past CONSUMER_STUCK_ROUND_MS$/);
    expect(recorded).not.toContain(id);
    expect(await committedTotal(running.groupId)).toBe(before);
    // A process exits here (consumer-process.ts); the test's consumer lets the round go on, and
    // the round, freed, does its work and commits it: nothing lost, nothing done twice.
    releaseHung();
    await running.stop();
    running = await start();
    await waitFor(() => recorded.includes(id), 30_000, 'the hung message to be done');
    expect(recorded.filter((r) => r === id)).toHaveLength(1);
    await waitFor(async () => (await committedTotal(running!.groupId)) === before + 1, 10_000, 'its commit');
  });
});

describe('a client that cannot reach the store while the store is up', () => {
  it('stops the consumer, uncommitted, once no attempt has reached the store for MONGO_CLIENT_STUCK_MS while a connection of its own does', async () => {
    // Waiting out a store outage is right; waiting on a client of ours that never finds the
    // store again is a stall for good (the consumer heartbeats and holds its partitions).
    await running?.stop();
    const stuckRoundMs = 1500;
    running = await startConsumer(specModule, { config: { ...config, mongo: { ...config.mongo, clientStuckMs: stuckRoundMs } }, log, retry: { initialDelayMs: 20, maxDelayMs: 100 } });
    await running.joined;
    const before = await committedTotal(running.groupId);
    const id = await publishCancel('wedged');
    const reason = await running.crashed.catch((error: unknown) => error);
    expect(String((reason as Error).message)).toMatch(/^MongoDB answers a connection of its own, but this process has not reached it for \d+ s \(past MONGO_CLIENT_STUCK_MS\)/);
    expect(attempts.get(id)).toBeGreaterThan(1);
    await running.stop();
    expect(await committedTotal(running.groupId)).toBe(before);
    expect(recorded).not.toContain(id);

    clientWedged = false; // the fresh process's client reaches the store
    running = await start();
    await waitFor(() => recorded.includes(id), 30_000, 'the message to be done by the next instance');
    expect(recorded.filter((r) => r === id)).toHaveLength(1);
  });
});

describe('a message as large as its topic takes', () => {
  it('is dead-lettered whole (the copy and its reason headers fit), and the consumer carries on', async () => {
    // Drill 8 found this: the copy of a value just under order.cancelled's max.message.bytes,
    // plus the reason headers, did not fit the dead-letter topic, and the consumer stopped.
    running ??= await start();
    const before = await committedTotal(running.groupId);
    const value = `not json ${'x'.repeat(MAX_MESSAGE_BYTES - 256)}`;
    await raw.send({ topic, messages: [{ key: 'huge-1', value }] });
    const afterwards = await publishCancel('fine');
    const dead = await waitFor(() => tap.of('order.cancelled.dlq' as TopicName).find((m) => m.key === 'huge-1'), 60_000, 'the huge message dead-lettered');
    expect(dead.value).toBe(value);
    expect(dead.headers[DEAD_LETTER_HEADERS.errorCode]).toBe('INVALID_EVENT');
    await waitFor(() => recorded.includes(afterwards), 20_000, 'the next good message');
    await waitFor(async () => (await committedTotal(running!.groupId)) === before + 2, 10_000, 'both offsets committed');
  });
});
