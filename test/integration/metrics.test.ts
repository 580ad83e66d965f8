/**
 * `/metrics` on every process, scraped while orders flow (issue 9): the API in-process on its
 * port, and a consumer (the orders projector) started in-process with the listener its process
 * serves (serveConsumerListener: probes, /metrics, its group's lag). The series must move:
 * placeOrder counted by outcome, produce and MongoDB latencies observed, WebSockets and
 * subscriptions counted while open, events processed per module and topic, and the group's lag
 * per partition: back to 0 once worked off, and growing while the consumer is stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import { serveConsumerListener } from '../../src/kafka/consumer-process';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { OrderConfirmedDocument, PlaceOrderDocument, type PlaceOrderInput } from '../generated/graphql';
import { gql, startApiWorld, subscribe, tokenFor, wsClient, type ApiWorld } from '../support/api-harness';
import { testLogger, uniqueName, waitFor } from '../support/services';

let world: ApiWorld;
let projector: RunningConsumer;
let served: Awaited<ReturnType<typeof serveConsumerListener>>;
let apiBase: string;
let token: string;
const input = (): PlaceOrderInput => ({
  restaurantId: 'pizzeria-napoli',
  items: [{ menuItemId: 'margherita', quantity: 1 }],
  deliveryAddress: '1 Via Roma, Napoli',
  paymentToken: 'tok_visa',
});

/** The sum of a series' samples whose labels include `labels` (Prometheus text format). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => has[key] === value)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

async function scrape(base: string): Promise<string> {
  const answer = await fetch(`${base}/metrics`);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return answer.text();
}

const placeOrders = async (count: number) => {
  for (let i = 0; i < count; i++) expect((await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, token)).data?.placeOrder?.id).toBeTruthy();
};

beforeAll(async () => {
  world = await startApiWorld('metrics', {}, { METRICS_LAG_INTERVAL_MS: '200' });
  apiBase = new URL(world.api.graphqlUrl).origin;
  token = await tokenFor({ sub: uniqueName('metrics-customer'), role: 'CUSTOMER' });
  const log = testLogger('metrics-test');
  projector = await startConsumer(createOrdersProjector(), { config: world.config, log });
  served = await serveConsumerListener(projector, createOrdersProjector().topics, { config: world.config, log, isStopping: () => false });
});

afterAll(async () => {
  await served?.close();
  await projector?.stop();
  await world?.stop();
});

describe("the API's /metrics", () => {
  it('counts placeOrder by outcome with its latency, and the produce and MongoDB commands behind it', async () => {
    const before = await scrape(apiBase);
    const placed = { operation: 'placeOrder', type: 'mutation', outcome: 'ok' };
    await placeOrders(3);
    const refused = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, null);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const after = await scrape(apiBase);
    const delta = (name: string, labels: Record<string, string> = {}) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(delta('graphql_operations_total', placed)).toBe(3);
    expect(delta('graphql_operation_duration_seconds_count', placed)).toBe(3);
    expect(sample(after, 'graphql_operation_duration_seconds_bucket', { ...placed, le: '+Inf' })).toBe(sample(after, 'graphql_operations_total', placed));
    expect(delta('graphql_operations_total', { operation: 'placeOrder', outcome: 'UNAUTHENTICATED' })).toBe(1);
    expect(delta('kafka_produce_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThanOrEqual(3);
    expect(delta('kafka_produced_events_total')).toBeGreaterThanOrEqual(3);
    expect(delta('mongo_command_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    // Process figures come with every registry; no label carries an order or a customer.
    expect(sample(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after).not.toMatch(/order_id|orderId|customer/i);
  });

  it('counts open WebSockets and running subscriptions, and lets them go when they close', async () => {
    const base = await scrape(apiBase);
    const client = wsClient(world.api.websocketUrl, token);
    const subscription = subscribe(client, OrderConfirmedDocument, {});
    await waitFor(async () => sample(await scrape(apiBase), 'graphql_subscriptions_active') === (sample(base, 'graphql_subscriptions_active') ?? 0) + 1, 10_000, 'the subscription to count');
    expect(sample(await scrape(apiBase), 'graphql_websockets_active')).toBe((sample(base, 'graphql_websockets_active') ?? 0) + 1);

    subscription.close();
    await client.dispose();
    await waitFor(async () => {
      const text = await scrape(apiBase);
      return sample(text, 'graphql_subscriptions_active') === (sample(base, 'graphql_subscriptions_active') ?? 0) && sample(text, 'graphql_websockets_active') === (sample(base, 'graphql_websockets_active') ?? 0);
    }, 10_000, 'the socket and its subscription to be let go');
  });
});

describe("a consumer process's /metrics", () => {
  const group = () => projector.groupId;
  const placedLag = (text: string) => sample(text, 'kafka_consumer_lag', { group: group(), topic: 'order.placed' });

  it('is served beside its probes, counting events consumed and processed per module and topic, with its lag back to 0', async () => {
    expect((await fetch(`${served.listener.url}/readyz`)).status).toBe(200);
    const labels = { module: 'orders-projector', topic: 'order.placed' };
    const before = sample(await scrape(served.listener.url), 'consumer_events_processed_total', labels) ?? 0;
    await placeOrders(2);
    const text = await waitFor(async () => {
      const scraped = await scrape(served.listener.url);
      return (sample(scraped, 'consumer_events_processed_total', labels) ?? 0) >= before + 2 && placedLag(scraped) === 0 ? scraped : false;
    }, 30_000, 'the projector to process the orders and its lag to reach 0');
    expect(sample(text, 'consumer_events_consumed_total', labels)).toBeGreaterThanOrEqual(before + 2);
    // One series per partition of each of its topics, refreshed from the cluster.
    const partitions = [...text.matchAll(new RegExp(`^kafka_consumer_lag\\{group="${group()}",topic="order\\.placed",partition="(\\d+)"\\}`, 'gm'))];
    expect(partitions.length).toBe(world.config.kafka.topicPartitions);
    expect(sample(text, 'kafka_consumer_lag_refreshed_timestamp_seconds', { group: group() })).toBeGreaterThan(Date.now() / 1000 - 10);
  });

  it("reports the group's lag growing while the consumer is stopped (committed against end offsets)", async () => {
    await projector.stop();
    await placeOrders(3);
    await waitFor(async () => placedLag(await scrape(served.listener.url)) === 3, 15_000, 'the lag of the stopped group to reach 3');
  });
});
