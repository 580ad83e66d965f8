/**
 * Subscriptions streamed from Kafka: every API instance delivers every event (one consumer
 * group each, removed on a clean stop), and orderStatusChanged(orderId) sends the current
 * status first, then every later change, without a gap or a duplicate.
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMED_TOPICS } from '../../src/subscriptions/event-pubsub';
import type { ApiServer } from '../../src/http/api-server';
import { OrderStatusChangedDocument, type OrderStatusChangedSubscription } from '../generated/graphql';
import { seedOrder, startApiWorld, subscribe, tokenFor, untilLive, wsClient, type ApiWorld, type SubscriptionProbe } from '../support/api-harness';
import { statusEvent } from '../support/order-events.fixture';
import { uniqueName } from '../support/services';

let world: ApiWorld;
let second: ApiServer;
const alice = uniqueName('alice');
let token: string;
const clients: Client[] = [];
const client = (api: ApiServer) => {
  const c = wsClient(api.websocketUrl, token);
  clients.push(c);
  return c;
};
type Probe = SubscriptionProbe<OrderStatusChangedSubscription>;
const statuses = (probe: Probe, orderId: string) =>
  probe.results.map((r) => r.data?.orderStatusChanged).filter((u) => u?.orderId === orderId).map((u) => u?.status);
async function until(check: () => boolean, probe: Probe): Promise<void> {
  while (!check()) await probe.waitFor(probe.results.length + 1);
}
const groupsOfNamespace = async () => {
  const admin = world.kafka.admin();
  await admin.connect();
  // The API instances' own groups (the world also runs an order authority, whose group is shared).
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(`${world.config.kafka.namespace}.api-subscriptions.`));
  await admin.disconnect();
  return groups.sort();
};

beforeAll(async () => {
  world = await startApiWorld('api-subscriptions');
  second = await world.startAnotherInstance();
  token = await tokenFor({ sub: alice, role: 'CUSTOMER' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await world?.stop();
});

describe('two API instances', () => {
  it('each has its own consumer groups and both deliver an event to their clients', async () => {
    expect(await groupsOfNamespace()).toHaveLength(2 * STREAMED_TOPICS.length);
    const probes = [subscribe(client(world.api), OrderStatusChangedDocument, {}), subscribe(client(second), OrderStatusChangedDocument, {})];
    await untilLive(probes, () => world.events.publish([statusEvent({ orderId: uniqueName('sentinel'), customerId: alice }, 'CONFIRMED', 'PLACED')]));
    const order = { orderId: uniqueName('order'), customerId: alice };
    await world.events.publish([statusEvent(order, 'CONFIRMED', 'PLACED')]);
    for (const probe of probes) {
      await until(() => statuses(probe, order.orderId).length > 0, probe);
      expect(statuses(probe, order.orderId)).toEqual(['CONFIRMED']);
    }
    probes.forEach((p) => p.close());
  });
});

describe('orderStatusChanged(orderId)', () => {
  it('sends the current status first, then each later change once', async () => {
    const order = { orderId: uniqueName('order'), customerId: alice };
    const placedAt = new Date(Date.now() - 60_000);
    const confirmedAt = new Date(Date.now() - 30_000);
    await seedOrder(world.orders, {
      _id: order.orderId,
      customerId: alice,
      status: 'CONFIRMED',
      statusHistory: [
        { status: 'PLACED', at: placedAt, reason: null },
        { status: 'CONFIRMED', at: confirmedAt, reason: null },
      ],
    });
    const probe: Probe = subscribe(client(world.api), OrderStatusChangedDocument, { orderId: order.orderId });
    const [current] = await probe.waitFor(1);
    expect(current?.data?.orderStatusChanged).toMatchObject({ orderId: order.orderId, status: 'CONFIRMED', at: confirmedAt.toISOString() });
    // Redelivered and duplicated changes among the real ones: each status arrives once.
    await world.events.publish([
      statusEvent(order, 'CONFIRMED', 'PLACED', confirmedAt),
      statusEvent(order, 'PREPARING', 'CONFIRMED'),
      statusEvent(order, 'PREPARING', 'CONFIRMED'),
      statusEvent(order, 'OUT_FOR_DELIVERY', 'PREPARING'),
      statusEvent(order, 'DELIVERED', 'OUT_FOR_DELIVERY'),
    ]);
    await until(() => statuses(probe, order.orderId).includes('DELIVERED'), probe);
    expect(statuses(probe, order.orderId)).toEqual(['CONFIRMED', 'PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED']);
    probe.close();
  });

  it('a client reconnecting while the read model lags still starts from the latest status', async () => {
    const order = { orderId: uniqueName('order'), customerId: alice };
    await seedOrder(world.orders, { _id: order.orderId, customerId: alice, status: 'CONFIRMED' });
    // This instance consumes PREPARING and OUT_FOR_DELIVERY; the read model still says CONFIRMED.
    const watcher: Probe = subscribe(client(world.api), OrderStatusChangedDocument, {});
    await untilLive([watcher], () => world.events.publish([statusEvent({ orderId: uniqueName('sentinel'), customerId: alice }, 'CONFIRMED', 'PLACED')]));
    await world.events.publish([statusEvent(order, 'PREPARING', 'CONFIRMED'), statusEvent(order, 'OUT_FOR_DELIVERY', 'PREPARING')]);
    await until(() => statuses(watcher, order.orderId).length === 2, watcher);

    const reconnected: Probe = subscribe(client(world.api), OrderStatusChangedDocument, { orderId: order.orderId });
    await reconnected.waitFor(1);
    expect(statuses(reconnected, order.orderId)).toEqual(['OUT_FOR_DELIVERY']);
    await world.events.publish([statusEvent(order, 'DELIVERED', 'OUT_FOR_DELIVERY')]);
    await until(() => statuses(reconnected, order.orderId).includes('DELIVERED'), reconnected);
    expect(statuses(reconnected, order.orderId)).toEqual(['OUT_FOR_DELIVERY', 'DELIVERED']);
    watcher.close();
    reconnected.close();
  });

  it('an order the read model does not have yet is NOT_FOUND after a short wait', async () => {
    const probe: Probe = subscribe(client(world.api), OrderStatusChangedDocument, { orderId: uniqueName('nowhere') });
    await probe.done();
    expect(probe.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('a clean stop', () => {
  it('deletes the instance\'s consumer groups', async () => {
    const before = await groupsOfNamespace();
    await second.stop();
    const after = await groupsOfNamespace();
    expect(before).toHaveLength(2 * STREAMED_TOPICS.length);
    expect(after).toHaveLength(STREAMED_TOPICS.length);
    expect(after.every((group) => before.includes(group))).toBe(true);
  });
});
