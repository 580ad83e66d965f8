/**
 * Rate limits over HTTP: placeOrder and cancelOrder per customer, requests without a valid
 * token per client address (X-Forwarded-For trusted only as far as TRUST_PROXY_HOPS says),
 * and limits that hold across two API instances when the counters live in MongoDB.
 * A limited request answers RATE_LIMITED with extensions.retryAfterSeconds, HTTP 429 and
 * Retry-After, and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/http/api-server';
import { TOPICS } from '../../src/events/topics';
import { CancelOrderDocument, PlaceOrderDocument, RestaurantsDocument, type PlaceOrderInput } from '../generated/graphql';
import { gql, startApiWorld, tokenFor, topicMessageCount, type ApiWorld, type GraphQLAnswer } from '../support/api-harness';
import { testConfig, uniqueName } from '../support/services';

let world: ApiWorld;
/** Same namespace and database as the world, counters in MongoDB: two of them share limits. */
let sharedA: ApiServer;
let sharedB: ApiServer;
/** Counters in memory (the default), a second instance of the same settings. */
let memoryB: ApiServer;
/** Anonymous limits behind a trusted proxy hop (memoryB serves those without). */
let behindProxy: ApiServer;

const ORDER_LIMIT = 3;
const ANONYMOUS_LIMIT = 3;
const input = (): PlaceOrderInput => ({
  restaurantId: 'pizzeria-napoli',
  items: [{ menuItemId: 'margherita', quantity: 1 }],
  deliveryAddress: '1 Main Street',
  paymentToken: 'tok_visa',
});
const limits = { RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: String(ORDER_LIMIT), RATE_LIMIT_ANONYMOUS_PER_MINUTE: String(ANONYMOUS_LIMIT) };
const customer = () => tokenFor({ sub: uniqueName('customer'), role: 'CUSTOMER' });
const codeOf = (answer: GraphQLAnswer<unknown>) => answer.errors?.[0]?.extensions?.code ?? null;

async function post(url: string, token: string | null, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query: '{ restaurants { id } }' }),
  });
}

beforeAll(async () => {
  world = await startApiWorld('api-rate-limits', {}, limits);
  const base = { KAFKA_NAMESPACE: world.config.kafka.namespace, MONGO_URL: world.config.mongo.url, JWT_SECRET: world.config.jwtSecret, ...limits };
  const shared = testConfig({ ...base, RATE_LIMIT_STORE: 'mongo' });
  [sharedA, sharedB, memoryB, behindProxy] = await Promise.all([
    world.startAnotherInstance({}, shared),
    world.startAnotherInstance({}, shared),
    world.startAnotherInstance({}, world.config),
    world.startAnotherInstance({}, testConfig({ ...base, TRUST_PROXY_HOPS: '1' })),
  ]);
});

afterAll(async () => {
  await world?.stop();
});

describe('placeOrder and cancelOrder per customer', () => {
  it('answers RATE_LIMITED with retryAfterSeconds, 429 and Retry-After past the limit, and produces nothing', async () => {
    const alice = await customer();
    for (let i = 0; i < ORDER_LIMIT; i++) {
      const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, alice);
      expect(answer.errors, JSON.stringify(answer)).toBeUndefined();
    }
    const before = await topicMessageCount(world.kafka, world.config, TOPICS.orderPlaced);
    const response = await fetch(world.api.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ query: 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', variables: { input: input() } }),
    });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await response.json()) as GraphQLAnswer<unknown>;
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    // cancelOrder shares the budget: limited before the order is even looked up.
    expect(codeOf(await gql(world.api.graphqlUrl, CancelOrderDocument, { id: 'no-such-order' }, alice))).toBe('RATE_LIMITED');
    expect(await topicMessageCount(world.kafka, world.config, TOPICS.orderPlaced)).toBe(before);
    // Another customer is not affected.
    expect(codeOf(await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, await customer()))).toBeNull();
  });

  it('counts per instance in memory by default: a second instance has its own budget', async () => {
    const bob = await customer();
    for (let i = 0; i < ORDER_LIMIT; i++) expect(codeOf(await gql(world.api.graphqlUrl, CancelOrderDocument, { id: uniqueName('none') }, bob))).toBe('NOT_FOUND');
    expect(codeOf(await gql(world.api.graphqlUrl, CancelOrderDocument, { id: uniqueName('none') }, bob))).toBe('RATE_LIMITED');
    expect(codeOf(await gql(memoryB.graphqlUrl, CancelOrderDocument, { id: uniqueName('none') }, bob))).toBe('NOT_FOUND');
  });

  it('holds across two instances with RATE_LIMIT_STORE=mongo', async () => {
    const carol = await customer();
    const urls = [sharedA.graphqlUrl, sharedB.graphqlUrl, sharedA.graphqlUrl];
    for (const url of urls) expect(codeOf(await gql(url, CancelOrderDocument, { id: uniqueName('none') }, carol))).toBe('NOT_FOUND');
    for (const url of [sharedB.graphqlUrl, sharedA.graphqlUrl]) {
      const answer = await gql(url, CancelOrderDocument, { id: uniqueName('none') }, carol);
      expect(codeOf(answer)).toBe('RATE_LIMITED');
      expect(answer.status).toBe(429);
    }
    // The counters are documents of rate_limits, each carrying its own expiry.
    const entries = await world.mongo.collection('rate_limits').find({}).toArray();
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.expire instanceof Date)).toBe(true);
  });
});

describe('requests without a valid token, per client address', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the limit; X-Forwarded-For is ignored without trusted hops', async () => {
    for (let i = 0; i < ANONYMOUS_LIMIT; i++) expect((await post(memoryB.graphqlUrl, null, { 'x-forwarded-for': `10.0.0.${i}` })).status).toBe(200);
    const limited = await post(memoryB.graphqlUrl, null, { 'x-forwarded-for': '10.0.0.99' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
    // A bad token counts as none.
    expect((await post(memoryB.graphqlUrl, 'not-a-token')).status).toBe(429);
    // Signed-in requests are not limited by address.
    const signedIn = await gql(memoryB.graphqlUrl, RestaurantsDocument, {}, await customer());
    expect(signedIn.status).toBe(200);
    expect(signedIn.errors).toBeUndefined();
  });

  it('with TRUST_PROXY_HOPS=1 the address the proxy names is the client', async () => {
    for (let i = 0; i < ANONYMOUS_LIMIT; i++) expect((await post(behindProxy.graphqlUrl, null, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(200);
    expect((await post(behindProxy.graphqlUrl, null, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    // A client cannot escape by prepending addresses: only the last hop's entry is trusted.
    expect((await post(behindProxy.graphqlUrl, null, { 'x-forwarded-for': '1.2.3.4, 203.0.113.7' })).status).toBe(429);
    expect((await post(behindProxy.graphqlUrl, null, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });
});
