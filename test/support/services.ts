import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import mongoose from 'mongoose';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { withRetry } from '../../src/retry';

/** The product's configuration pointed at the services the global setup made sure of. */
export function testConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    MONGO_URL: inject('mongoUrl'),
    ...overrides,
  });
}

/** A name no other test (or earlier run) uses: tests share one broker and one database. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A database URL of its own for one test file, on the shared server. */
export function uniqueMongoUrl(prefix: string): string {
  const url = new URL(inject('mongoUrl'));
  url.pathname = `/${uniqueName(prefix)}`;
  return url.toString();
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.WARN });
}

/** Polls `check` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition'): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One message seen by a tap, with its logical topic and its value parsed when it is JSON. */
export interface TappedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: unknown;
  readonly headers: Record<string, string>;
}

export interface Tap {
  readonly messages: TappedMessage[];
  /** The messages of one logical topic, in arrival order. */
  of(topic: string): TappedMessage[];
  /** Waits until `topic` has at least `count` messages, then returns them all. */
  waitFor(topic: string, count: number, timeoutMs?: number): Promise<TappedMessage[]>;
  stop(): Promise<void>;
}

/**
 * Reads the given logical topics of `config`'s namespace from the beginning, in a group of its
 * own, for as long as the test runs: one join per file instead of one per assertion.
 */
export async function startTap(config: Config, topics: readonly string[]): Promise<Tap> {
  const prefix = config.kafka.namespace ? `${config.kafka.namespace}.` : '';
  // Quiet: right after topics are created the broker answers "not the leader" for a moment.
  const kafka = new Kafka({ clientId: uniqueName('tap'), brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('tap'), allowAutoTopicCreation: false });
  const messages: TappedMessage[] = [];
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await withRetry(() => consumer.subscribe({ topics: topics.map((t) => `${prefix}${t}`), fromBeginning: true }), { retries: 5, initialDelayMs: 500 });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const text = message.value?.toString() ?? '';
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // kept as text: dead letters may hold anything
      }
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      messages.push({ topic: topic.slice(prefix.length), partition, offset: message.offset, key: message.key?.toString() ?? null, value, headers });
    },
  });
  await joined;
  const of = (topic: string) => messages.filter((m) => m.topic === topic);
  return {
    messages,
    of,
    waitFor: (topic, count, timeoutMs = 20_000) =>
      waitFor(() => of(topic).length >= count && of(topic), timeoutMs, `${count} message(s) on ${topic}`),
    stop: () => consumer.disconnect(),
  };
}

/** A logger for code under test: silent unless TEST_LOG_LEVEL asks (e.g. `TEST_LOG_LEVEL=info`). */
export function testLogger(name: string): Logger {
  return createLogger(name, { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** Waits until consumer group `groupId` has committed every message produced so far to the given logical topics. */
export async function waitUntilDrained(admin: Admin, config: Config, groupId: string, topics: readonly string[], timeoutMs = 20_000): Promise<void> {
  const physical = topics.map((t) => (config.kafka.namespace ? `${config.kafka.namespace}.${t}` : t));
  // Fixed before waiting: messages produced later are not waited for. Retried because a
  // topic created a moment ago may still answer "not the leader".
  const ends = await withRetry(() =>
    Promise.all(physical.map(async (t) => (await admin.fetchTopicOffsets(t)).reduce((sum, p) => sum + Number(p.high), 0))),
  );
  await waitFor(
    async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: physical });
      const total = (topic: string) =>
        (committed.find((c) => c.topic === topic)?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      return physical.every((topic, i) => total(topic) >= ends[i]!);
    },
    timeoutMs,
    `${groupId} to drain ${topics.join(', ')}`,
  );
}

/**
 * Leaves the shared broker and server as a test file found them: its database dropped, its
 * namespace's topics and consumer groups deleted.
 */
export async function removeTestNamespace(namespace: string, mongoUrl: string): Promise<void> {
  const mongo = await mongoose.createConnection(mongoUrl).asPromise();
  await mongo.dropDatabase().catch(() => undefined);
  await mongo.close();
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const mine = (name: string) => name.startsWith(`${namespace}.`);
    await admin.deleteTopics({ topics: (await admin.listTopics()).filter(mine) }).catch(() => undefined);
    await admin.deleteGroups((await admin.listGroups()).groups.map((g) => g.groupId).filter(mine)).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
