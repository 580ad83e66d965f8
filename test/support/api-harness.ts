import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import type { Kafka, KafkaMessage } from 'kafkajs';
import mongoose, { type Connection } from 'mongoose';
import WebSocket from 'ws';
import { signAccessToken, type TokenClaims } from '../../src/auth/access-token';
import type { Config } from '../../src/config';
import { physicalTopic } from '../../src/events/topics';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/http/api-server';
import { createOrderAuthority } from '../../src/consumers/order-authority.consumer';
import { startConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { createLogger } from '../../src/logger';
import { orderModel, type OrderDocument, type OrderModel } from '../../src/mongo/models/order.model';
import { withRetry } from '../../src/retry';
import { removeTestNamespace, testConfig, testKafka, uniqueMongoUrl, uniqueName } from './services';

/** The HS256 secret every test API instance verifies with. */
export const TEST_JWT_SECRET = 'api-tests-secret-0123456789abcdef0123456789';

/** One test file's world: its own Kafka namespace and database, its API, and clients to both. */
export interface ApiWorld {
  readonly config: Config;
  readonly api: ApiServer;
  readonly kafka: Kafka;
  readonly mongo: Connection;
  readonly orders: OrderModel;
  readonly events: EventProducer;
  /** Another API instance on the same namespace and database (stopped with the world); `config` may differ elsewhere. */
  startAnotherInstance(options?: ApiServerOptions, config?: Config): Promise<ApiServer>;
  stop(): Promise<void>;
}

export async function startApiWorld(name: string, options: ApiServerOptions = {}, env: NodeJS.ProcessEnv = {}): Promise<ApiWorld> {
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName(name), MONGO_URL: uniqueMongoUrl(name), JWT_SECRET: TEST_JWT_SECRET, ...env });
  const log = createLogger(name, { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const api = await startApiServer(config, log, { port: 0, readinessGraceMs: 0, ...options });
  // cancelOrder and advanceOrder wait on the order's authority: it runs beside every test API.
  const authority = await startConsumer(createOrderAuthority(), { config, log });
  await api.subscriptionsReady();
  const kafka = testKafka();
  const mongo = await mongoose.createConnection(config.mongo.url).asPromise();
  const events = await connectEventProducer(kafka, config);
  const others: ApiServer[] = [];
  return {
    config,
    api,
    kafka,
    mongo,
    orders: orderModel(mongo),
    events,
    async startAnotherInstance(more = {}, otherConfig = config) {
      const other = await startApiServer(otherConfig, log, { port: 0, readinessGraceMs: 0, ...more });
      others.push(other);
      await other.subscriptionsReady();
      return other;
    },
    async stop() {
      await Promise.all([authority, api, ...others].map((a) => a.stop()));
      await events.disconnect();
      await mongo.close();
      await removeTestNamespace(config.kafka.namespace, config.mongo.url);
    },
  };
}

export const tokenFor = (claims: TokenClaims, options?: { expiresInSeconds?: number; now?: Date }) => signAccessToken(claims, TEST_JWT_SECRET, options);

/** The kinds of wrong credentials every operation is tried with. */
export async function badCredentials(): Promise<{ name: string; token: string | null; problem: RegExp }[]> {
  return [
    { name: 'no token', token: null, problem: /Authorization/ },
    { name: 'an expired token', token: await tokenFor({ sub: 'c-x', role: 'CUSTOMER' }, { now: new Date(Date.now() - 7200_000), expiresInSeconds: 60 }), problem: /expired/ },
    { name: 'a token with a bad signature', token: await signAccessToken({ sub: 'c-x', role: 'ADMIN' }, 'some-other-secret-of-at-least-32-characters'), problem: /not valid/ },
  ];
}

export interface GraphQLAnswer<T> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly GraphQLFormattedError[];
}

/** POSTs a typed operation as a mobile app would. */
export async function gql<T, V>(
  url: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
  token?: string | null,
  headers: Record<string, string> = {},
): Promise<GraphQLAnswer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

/** The one error of an answer, for assertions. */
export function onlyError(answer: GraphQLAnswer<unknown>): { message: string; code: unknown; field: unknown } {
  if (answer.errors?.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(answer)}`);
  const [error] = answer.errors as [GraphQLFormattedError];
  return { message: error.message, code: error.extensions?.code, field: error.extensions?.field };
}

/** A graphql-ws subscription that records what arrives. */
export interface SubscriptionProbe<T> {
  readonly results: ExecutionResult<T>[];
  readonly errors: unknown[];
  /** Resolves once `count` results arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ExecutionResult<T>[]>;
  /** Resolves once the server ended the operation (an error result or complete). */
  done(): Promise<void>;
  close(): void;
}

export function wsClient(url: string, token: string | null): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
}

export function subscribe<T, V>(client: Client, document: TypedDocumentNode<T, V>, variables: V): SubscriptionProbe<T> {
  const results: ExecutionResult<T>[] = [];
  const errors: unknown[] = [];
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stop = client.subscribe<T>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (value) => results.push(value as ExecutionResult<T>),
      error: (error) => {
        errors.push(error);
        finish();
      },
      complete: finish,
    },
  );
  return {
    results,
    errors,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (results.length < count) {
        if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${count} results, got ${JSON.stringify(results)} ${JSON.stringify(errors)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return results.slice(0, count);
    },
    done: () => finished,
    close: stop,
  };
}

/** How a raw graphql-ws connection attempt with `connectionParams` ends: the close code and reason. */
export function connectRaw(url: string, connectionParams: Record<string, unknown>): Promise<{ code: number; reason: string; acknowledged: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    let acknowledged = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') {
        acknowledged = true;
        socket.close(1000, 'done');
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason), acknowledged }));
    socket.on('error', reject);
  });
}

/** The sum of a topic's high watermarks: how many messages it ever got (no compaction, no transactions here). */
export async function topicMessageCount(kafka: Kafka, config: Config, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await withRetry(() => admin.fetchTopicOffsets(physicalTopic(config, topic)));
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Every message of a namespace's topic, read from the beginning by a throwaway consumer group. */
export async function readTopic(kafka: Kafka, config: Config, topic: string): Promise<KafkaMessage[]> {
  const physical = physicalTopic(config, topic);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await withRetry(() => admin.fetchTopicOffsets(physical))).map((p) => [p.partition, Number(p.high)]));
  const messages: KafkaMessage[] = [];
  if ([...ends.values()].every((high) => high === 0)) {
    await admin.disconnect();
    return messages;
  }
  const groupId = uniqueName('read-topic');
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  const next = new Map<number, number>();
  await consumer.connect();
  await consumer.subscribe({ topic: physical, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      messages.push(message);
      next.set(partition, Number(message.offset) + 1);
    },
  });
  const deadline = Date.now() + 30_000;
  while ([...ends].some(([p, high]) => (next.get(p) ?? 0) < high)) {
    if (Date.now() > deadline) throw new Error(`could not read ${physical} to its end`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  return messages;
}

/** Puts an order into the read model as the projector would have it (test setup of a read model). */
export async function seedOrder(orders: OrderModel, order: Partial<OrderDocument> & Pick<OrderDocument, '_id' | 'customerId' | 'status'>): Promise<OrderDocument> {
  const now = new Date();
  const history = order.statusHistory ?? [{ status: order.status, at: now, reason: null }];
  const doc = new orders({
    restaurantId: 'pizzeria-napoli',
    items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 1, unitPriceCents: 950, lineTotalCents: 950 }],
    totalCents: 950,
    currency: 'EUR',
    deliveryAddress: '1 Test Street',
    detailsKnown: true,
    createdAt: now,
    updatedAt: now,
    ...order,
    statusHistory: history,
  });
  // Explicit createdAt (pagination tests) must survive: no automatic timestamps here.
  await doc.save({ timestamps: false });
  return doc.toObject();
}

/**
 * Publishes sentinel events until every probe received one: from then on their subscriptions
 * are registered on the server (a graphql-ws subscribe is acknowledged by nothing else).
 */
export async function untilLive(probes: readonly SubscriptionProbe<unknown>[], publishSentinels: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (probes.some((p) => p.results.length === 0)) {
    if (Date.now() > deadline) throw new Error('subscriptions did not go live');
    await publishSentinels();
    await new Promise((r) => setTimeout(r, 200));
  }
}
