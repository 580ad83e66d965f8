/**
 * What the operations dashboard reads, through the public API on the real broker and store:
 * `consumerLag` (ADMIN; every group's lag from the Kafka admin API) and the `restaurantId`
 * argument of `analytics` / `analyticsUpdated` (an ADMIN picks a restaurant; a RESTAURANT may
 * name only its own), and the page's route (headers, assets, off when disabled). The page itself
 * is driven in Chromium by test/browser/dashboard.test.ts.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_SCOPE, restaurantScope } from '../../src/domain/analytics';
import { CONSUMER_GROUP_TOPICS } from '../../src/events/consumer-groups';
import { gql, onlyError, startApiWorld, subscribe, tokenFor, untilLive, wsClient, type ApiWorld, type SubscriptionProbe } from '../support/api-harness';
import { analyticsEvent, confirmedEvent } from '../support/order-events.fixture';
import { uniqueName } from '../support/services';

interface LagAnswer {
  consumerLag: { readAt: string; groups: { groupId: string; totalLag: number; partitions: { topic: string; partition: number; lag: number }[] }[] };
}
interface ScopeAnswer {
  analytics: { scope: string };
}
interface SnapshotEvent {
  analyticsUpdated: { scope: string; ordersPlaced: number };
}
type Vars = { restaurantId?: string | null };

const LAG = parse('query { consumerLag { readAt groups { groupId totalLag partitions { topic partition lag } } } }') as TypedDocumentNode<LagAnswer, Record<string, never>>;
const ANALYTICS = parse('query ($restaurantId: ID) { analytics(restaurantId: $restaurantId) { scope } }') as TypedDocumentNode<ScopeAnswer, Vars>;
const UPDATES = parse('subscription ($restaurantId: ID) { analyticsUpdated(restaurantId: $restaurantId) { scope ordersPlaced } }') as TypedDocumentNode<SnapshotEvent, Vars>;

let world: ApiWorld;
const tokens = {} as Record<'customer' | 'napoli' | 'admin', string>;
const clients: Client[] = [];
const client = (token: string) => {
  const c = wsClient(world.api.websocketUrl, token);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  world = await startApiWorld('dashboard-api');
  tokens.customer = await tokenFor({ sub: uniqueName('customer'), role: 'CUSTOMER' });
  tokens.napoli = await tokenFor({ sub: 'staff-napoli', role: 'RESTAURANT', restaurantId: 'pizzeria-napoli' });
  tokens.admin = await tokenFor({ sub: 'admin', role: 'ADMIN' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await world?.stop();
});

describe('consumerLag', () => {
  it('reports every consumer group, counting the messages nobody has consumed yet', async () => {
    // Three confirmations and no confirmations or analytics consumer running: each group is 3 behind.
    await world.events.publish([1, 2, 3].map(() => confirmedEvent({ orderId: uniqueName('order'), customerId: 'c-lag' })));
    const answer = await gql(world.api.graphqlUrl, LAG, {}, tokens.admin);
    expect(answer.errors).toBeUndefined();
    const lag = Object.fromEntries(answer.data!.consumerLag.groups.map((g) => [g.groupId, g.totalLag]));
    expect(Object.keys(lag).sort()).toEqual(Object.keys(CONSUMER_GROUP_TOPICS).sort());
    expect(lag).toMatchObject({ confirmations: 3, analytics: 3, transactions: 0, 'orders-projector': 0 });
    const confirmations = answer.data!.consumerLag.groups.find((g) => g.groupId === 'confirmations')!;
    expect(confirmations.partitions.every((p) => p.topic === 'order.confirmed')).toBe(true);
    expect(confirmations.partitions).toHaveLength(world.config.kafka.topicPartitions);
  });

  it('is served from one reading for a few seconds, however often it is asked', async () => {
    const [first, second] = await Promise.all([gql(world.api.graphqlUrl, LAG, {}, tokens.admin), gql(world.api.graphqlUrl, LAG, {}, tokens.admin)]);
    expect(second.data!.consumerLag.readAt).toBe(first.data!.consumerLag.readAt);
  });

  it('is FORBIDDEN to a restaurant and a customer', async () => {
    for (const token of [tokens.napoli, tokens.customer]) {
      expect(onlyError(await gql(world.api.graphqlUrl, LAG, {}, token)).code).toBe('FORBIDDEN');
    }
  });
});

describe('GET /dashboard', () => {
  const origin = () => new URL(world.api.graphqlUrl).origin;

  it('serves the page under a strict CSP, without a token outside development', async () => {
    const response = await fetch(`${origin()}/dashboard`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'; style-src 'self'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).toContain('<meta name="dashboard-token" content="">');
    expect(html).toContain('<meta name="graphql-path" content="/graphql">');
  });

  it('serves its script, styles and the vendored libraries from this machine, and nothing else', async () => {
    for (const [name, type] of [['dashboard.js', 'text/javascript'], ['dashboard.css', 'text/css'], ['chart.umd.min.js', 'text/javascript'], ['graphql-ws.min.js', 'text/javascript']]) {
      const response = await fetch(`${origin()}/dashboard/assets/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type'), name).toBe(`${type}; charset=utf-8`);
      expect(response.headers.get('x-content-type-options'), name).toBe('nosniff');
    }
    expect((await fetch(`${origin()}/dashboard/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${origin()}/dashboard/assets/index.html`)).status).toBe(404);
  });

  it('is not served when DASHBOARD_ENABLED=false', async () => {
    const off = await world.startAnotherInstance({}, { ...world.config, dashboard: { enabled: false } });
    expect((await fetch(new URL('/dashboard', off.graphqlUrl))).status).toBe(404);
    expect((await fetch(new URL('/dashboard/assets/dashboard.js', off.graphqlUrl))).status).toBe(404);
  });
});

describe('analytics(restaurantId)', () => {
  const scopeOf = async (token: string, restaurantId?: string) => gql(world.api.graphqlUrl, ANALYTICS, { restaurantId }, token);

  it('gives an admin everyone\'s figures, or the named restaurant\'s', async () => {
    expect((await scopeOf(tokens.admin)).data?.analytics.scope).toBe(GLOBAL_SCOPE);
    expect((await scopeOf(tokens.admin, 'sushi-sakura')).data?.analytics.scope).toBe(restaurantScope('sushi-sakura'));
  });

  it('gives a restaurant its own figures, and refuses it another\'s', async () => {
    expect((await scopeOf(tokens.napoli)).data?.analytics.scope).toBe(restaurantScope('pizzeria-napoli'));
    expect((await scopeOf(tokens.napoli, 'pizzeria-napoli')).data?.analytics.scope).toBe(restaurantScope('pizzeria-napoli'));
    expect(onlyError(await scopeOf(tokens.napoli, 'sushi-sakura')).code).toBe('FORBIDDEN');
  });

  it('analyticsUpdated(restaurantId) streams an admin only the named restaurant\'s snapshots', async () => {
    const sakura = subscribe(client(tokens.admin), UPDATES, { restaurantId: 'sushi-sakura' });
    await untilLive([sakura], () => world.events.publish([analyticsEvent(restaurantScope('sushi-sakura'), 0)]));
    await world.events.publish(
      [analyticsEvent(GLOBAL_SCOPE, 9), analyticsEvent(restaurantScope('pizzeria-napoli'), 8), analyticsEvent(restaurantScope('sushi-sakura'), 5)].map((e) => ({ ...e, key: 'one-partition' })),
    );
    const real = () => sakura.results.map((r) => r.data?.analyticsUpdated).filter((s) => (s?.ordersPlaced ?? 0) > 0);
    while (!real().some((s) => s?.ordersPlaced === 5)) await sakura.waitFor(sakura.results.length + 1);
    expect(real()).toEqual([{ scope: restaurantScope('sushi-sakura'), ordersPlaced: 5 }]);
    sakura.close();
  });

  it('analyticsUpdated(restaurantId) of another restaurant is FORBIDDEN to a restaurant', async () => {
    const probe: SubscriptionProbe<SnapshotEvent> = subscribe(client(tokens.napoli), UPDATES, { restaurantId: 'sushi-sakura' });
    await probe.done();
    const error = (probe.results[0]?.errors?.[0] ?? (probe.errors[0] as { extensions?: { code?: unknown } }[])[0]) as { extensions?: { code?: unknown } };
    expect(error.extensions?.code).toBe('FORBIDDEN');
  });
});
