/**
 * The authorization matrix: every query, mutation and subscription tried without a token,
 * with an expired one, with a bad signature, and as the wrong customer, restaurant or role.
 * Refused mutations produce nothing.
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_SCOPE, restaurantScope } from '../../src/domain/analytics';
import { TOPICS } from '../../src/events/topics';
import {
  AdvanceOrderDocument,
  AnalyticsDocument,
  AnalyticsUpdatedDocument,
  CancelOrderDocument,
  MeDocument,
  MyOrdersDocument,
  OrderConfirmedDocument,
  OrderDocument,
  OrderStatusChangedDocument,
  PlaceOrderDocument,
  RestaurantDocument,
  RestaurantsDocument,
} from '../generated/graphql';
import {
  badCredentials,
  connectRaw,
  gql,
  onlyError,
  seedOrder,
  startApiWorld,
  subscribe,
  tokenFor,
  topicMessageCount,
  wsClient,
  type ApiWorld,
  untilLive,
  type SubscriptionProbe,
} from '../support/api-harness';
import { analyticsEvent, confirmedEvent } from '../support/order-events.fixture';
import { uniqueName } from '../support/services';

let world: ApiWorld;
const alice = uniqueName('alice');
const bob = uniqueName('bob');
const orderId = uniqueName('order');
const tokens = {} as Record<'alice' | 'bob' | 'napoli' | 'sakura' | 'admin', string>;
const clients: Client[] = [];
const placeInput = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 1 }], deliveryAddress: '1 Road', paymentToken: 'tok_visa' };
const producedTopics = [TOPICS.orderPlaced, TOPICS.orderCancelled, TOPICS.orderStatusChanged];
let producedBefore: number[];

const produced = () => Promise.all(producedTopics.map((t) => topicMessageCount(world.kafka, world.config, t)));
const client = (token: string | null) => {
  const c = wsClient(world.api.websocketUrl, token);
  clients.push(c);
  return c;
};
/** The error a subscription ends with (sent as a result with errors, or as an error message). */
async function subscriptionError(probe: SubscriptionProbe<unknown>): Promise<{ code: unknown; message: string }> {
  await probe.done();
  const error = (probe.results[0]?.errors?.[0] ?? (probe.errors[0] as { message: string; extensions?: { code?: unknown } }[])[0]) as {
    message: string;
    extensions?: { code?: unknown };
  };
  return { code: error.extensions?.code, message: error.message };
}

beforeAll(async () => {
  world = await startApiWorld('api-authz');
  tokens.alice = await tokenFor({ sub: alice, role: 'CUSTOMER' });
  tokens.bob = await tokenFor({ sub: bob, role: 'CUSTOMER' });
  tokens.napoli = await tokenFor({ sub: 'staff-napoli', role: 'RESTAURANT', restaurantId: 'pizzeria-napoli' });
  tokens.sakura = await tokenFor({ sub: 'staff-sakura', role: 'RESTAURANT', restaurantId: 'sushi-sakura' });
  tokens.admin = await tokenFor({ sub: 'admin', role: 'ADMIN' });
  await seedOrder(world.orders, { _id: orderId, customerId: alice, restaurantId: 'pizzeria-napoli', status: 'CONFIRMED' });
  producedBefore = await produced();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await world?.stop();
});

describe('queries and mutations with bad credentials are UNAUTHENTICATED', async () => {
  const url = () => world.api.graphqlUrl;
  const operations = [
    ['restaurants', () => (t: string | null) => gql(url(), RestaurantsDocument, {}, t)],
    ['restaurant', () => (t: string | null) => gql(url(), RestaurantDocument, { id: 'pizzeria-napoli' }, t)],
    ['me', () => (t: string | null) => gql(url(), MeDocument, {}, t)],
    ['order', () => (t: string | null) => gql(url(), OrderDocument, { id: orderId }, t)],
    ['myOrders', () => (t: string | null) => gql(url(), MyOrdersDocument, {}, t)],
    ['analytics', () => (t: string | null) => gql(url(), AnalyticsDocument, {}, t)],
    ['placeOrder', () => (t: string | null) => gql(url(), PlaceOrderDocument, { input: placeInput }, t)],
    ['cancelOrder', () => (t: string | null) => gql(url(), CancelOrderDocument, { id: orderId }, t)],
    ['advanceOrder', () => (t: string | null) => gql(url(), AdvanceOrderDocument, { id: orderId, status: 'PREPARING' }, t)],
  ] as const;
  for (const credentials of await badCredentials()) {
    it.each(operations)(`%s with ${credentials.name}`, async (_name, operation) => {
      expect(onlyError(await operation()(credentials.token))).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(credentials.problem) });
    });
  }
});

describe('the wrong customer, restaurant or role', () => {
  it('order: another customer or restaurant gets NOT_FOUND; owner, its restaurant and an admin see it', async () => {
    for (const who of ['bob', 'sakura'] as const) expect(onlyError(await gql(world.api.graphqlUrl, OrderDocument, { id: orderId }, tokens[who])).code).toBe('NOT_FOUND');
    for (const who of ['alice', 'napoli', 'admin'] as const) expect((await gql(world.api.graphqlUrl, OrderDocument, { id: orderId }, tokens[who])).data?.order?.id).toBe(orderId);
  });

  it('myOrders lists only what the caller may see', async () => {
    const ids = async (who: keyof typeof tokens) => (await gql(world.api.graphqlUrl, MyOrdersDocument, {}, tokens[who])).data?.myOrders.edges.map((e) => e.node.id);
    expect(await ids('alice')).toEqual([orderId]);
    expect(await ids('bob')).toEqual([]);
    expect(await ids('napoli')).toEqual([orderId]);
    expect(await ids('sakura')).toEqual([]);
  });

  it('analytics is FORBIDDEN to customers', async () => {
    expect(onlyError(await gql(world.api.graphqlUrl, AnalyticsDocument, {}, tokens.alice)).code).toBe('FORBIDDEN');
  });

  it('placeOrder is FORBIDDEN to restaurants and admins', async () => {
    for (const who of ['napoli', 'admin'] as const) expect(onlyError(await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: placeInput }, tokens[who])).code).toBe('FORBIDDEN');
  });

  it('cancelOrder: another customer gets NOT_FOUND, a restaurant FORBIDDEN', async () => {
    expect(onlyError(await gql(world.api.graphqlUrl, CancelOrderDocument, { id: orderId }, tokens.bob)).code).toBe('NOT_FOUND');
    expect(onlyError(await gql(world.api.graphqlUrl, CancelOrderDocument, { id: orderId }, tokens.napoli)).code).toBe('FORBIDDEN');
  });

  it('advanceOrder: a customer gets FORBIDDEN, another restaurant NOT_FOUND', async () => {
    expect(onlyError(await gql(world.api.graphqlUrl, AdvanceOrderDocument, { id: orderId, status: 'PREPARING' }, tokens.alice)).code).toBe('FORBIDDEN');
    expect(onlyError(await gql(world.api.graphqlUrl, AdvanceOrderDocument, { id: orderId, status: 'PREPARING' }, tokens.sakura)).code).toBe('NOT_FOUND');
  });

  it('no refused mutation produced an event', async () => {
    expect(await produced()).toEqual(producedBefore);
  });
});

describe('subscriptions', async () => {
  it('a subscription is closed with 4401 when the token that opened its socket expires', async () => {
    const shortLived = await tokenFor({ sub: uniqueName('customer'), role: 'CUSTOMER' }, { expiresInSeconds: 2 });
    const opened = Date.now();
    const probe = subscribe(wsClient(world.api.websocketUrl, shortLived), OrderConfirmedDocument, {});
    await probe.done();
    const [closed] = probe.errors as { code?: number; reason?: string }[];
    expect(closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/expired/) });
    expect(Date.now() - opened).toBeGreaterThan(900); // it lived until then: expiry, not a refusal at connect
  }, 20_000);

  for (const credentials of await badCredentials()) {
    it(`a WebSocket with ${credentials.name} is closed with 4401 at connect`, async () => {
      const params = credentials.token ? { authorization: `Bearer ${credentials.token}` } : {};
      const closed = await connectRaw(world.api.websocketUrl, params);
      expect(closed).toMatchObject({ code: 4401, acknowledged: false, reason: expect.stringMatching(credentials.problem) });
    });

    // No header at all means "the connection's identity", so only real bad tokens apply here.
    if (credentials.token) {
      const token = credentials.token;
      it(`an operation carrying ${credentials.name} in its headers (as GraphiQL sends them) is UNAUTHENTICATED`, async () => {
        const code = await new Promise<unknown>((resolve) => {
          client(tokens.alice).subscribe(
            { query: 'subscription { orderConfirmed { orderId } }', extensions: { headers: { Authorization: `Bearer ${token}` } } },
            {
              next: (r) => resolve(r.errors?.[0]?.extensions?.code),
              error: (e) => resolve((e as { extensions?: { code?: unknown } }[])[0]?.extensions?.code),
              complete: () => undefined,
            },
          );
        });
        expect(code).toBe('UNAUTHENTICATED');
      });
    }
  }

  it('orderStatusChanged(orderId) of someone else\'s order is NOT_FOUND, for a customer and a restaurant', async () => {
    for (const who of ['bob', 'sakura'] as const) {
      expect(await subscriptionError(subscribe(client(tokens[who]), OrderStatusChangedDocument, { orderId }))).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('analyticsUpdated is FORBIDDEN to customers', async () => {
    expect(await subscriptionError(subscribe(client(tokens.alice), AnalyticsUpdatedDocument, {}))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('orderConfirmed streams only the caller\'s orders: not to another customer or restaurant', async () => {
    const probes = {
      alice: subscribe(client(tokens.alice), OrderConfirmedDocument, {}),
      bob: subscribe(client(tokens.bob), OrderConfirmedDocument, {}),
      napoli: subscribe(client(tokens.napoli), OrderConfirmedDocument, {}),
      sakura: subscribe(client(tokens.sakura), OrderConfirmedDocument, {}),
    };
    const alices = () => ({ orderId: uniqueName('alice-order'), customerId: alice, restaurantId: 'pizzeria-napoli' });
    const bobs = () => ({ orderId: uniqueName('bob-order'), customerId: bob, restaurantId: 'sushi-sakura' });
    const sentinels = new Set<string>();
    await untilLive(Object.values(probes), async () => {
      const [a, b] = [alices(), bobs()];
      sentinels.add(a.orderId).add(b.orderId);
      await world.events.publish([confirmedEvent(a), confirmedEvent(b)]);
    });
    // One key, so one partition: delivered in this order. Each caller's last event arrives
    // after the other caller's, so had the other's leaked through it would be there already.
    const [a1, b1, a2, b2] = [alices(), bobs(), alices(), bobs()];
    await world.events.publish([a1, b1, a2, b2].map((o) => ({ ...confirmedEvent(o), key: 'one-partition' })));
    const seen = async (probe: SubscriptionProbe<{ orderConfirmed: { orderId: string } }>, last: string) => {
      const ids = () => probe.results.map((r) => r.data?.orderConfirmed.orderId ?? '').filter((id) => !sentinels.has(id));
      while (!ids().includes(last)) await probe.waitFor(probe.results.length + 1);
      return ids();
    };
    expect(await seen(probes.alice, a2.orderId)).toEqual([a1.orderId, a2.orderId]);
    expect(await seen(probes.napoli, a2.orderId)).toEqual([a1.orderId, a2.orderId]);
    expect(await seen(probes.bob, b2.orderId)).toEqual([b1.orderId, b2.orderId]);
    expect(await seen(probes.sakura, b2.orderId)).toEqual([b1.orderId, b2.orderId]);
    Object.values(probes).forEach((p) => p.close());
  });

  it('analyticsUpdated streams a restaurant only its own scope, an admin the global one', async () => {
    const napoli = subscribe(client(tokens.napoli), AnalyticsUpdatedDocument, {});
    const admin = subscribe(client(tokens.admin), AnalyticsUpdatedDocument, {});
    // Sentinels count 0 orders; the events under test count more.
    await untilLive([napoli, admin], () => world.events.publish([analyticsEvent(restaurantScope('pizzeria-napoli'), 0), analyticsEvent(GLOBAL_SCOPE, 0)]));
    const events = [analyticsEvent(restaurantScope('sushi-sakura'), 7), analyticsEvent(restaurantScope('pizzeria-napoli'), 3), analyticsEvent(GLOBAL_SCOPE, 10)];
    await world.events.publish([...events, analyticsEvent(restaurantScope('pizzeria-napoli'), 4), analyticsEvent(GLOBAL_SCOPE, 11)].map((e) => ({ ...e, key: 'one-partition' })));
    const seen = async (probe: SubscriptionProbe<{ analyticsUpdated: { scope: string; ordersPlaced: number } }>, last: number) => {
      const real = () => probe.results.map((r) => r.data?.analyticsUpdated).filter((s) => (s?.ordersPlaced ?? 0) > 0);
      while (!real().some((s) => s?.ordersPlaced === last)) await probe.waitFor(probe.results.length + 1);
      return real().map((s) => `${s?.scope}=${s?.ordersPlaced}`);
    };
    expect(await seen(napoli, 4)).toEqual(['restaurant:pizzeria-napoli=3', 'restaurant:pizzeria-napoli=4']);
    expect(await seen(admin, 11)).toEqual(['global=10', 'global=11']);
    napoli.close();
    admin.close();
  });
});
