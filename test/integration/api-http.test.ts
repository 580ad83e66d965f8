/**
 * The HTTP surface around GraphQL: health, request limits (body size, depth, cost, over HTTP
 * and WebSocket), introspection, CSRF prevention, GraphiQL (offline, token pre-filled, off in
 * production) and the development tokens.
 */
import { Query, Resolver } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/http/api-server';
import { MeDocument, MyOrdersDocument, RestaurantsDocument } from '../generated/graphql';
import { gql, onlyError, startApiWorld, TEST_JWT_SECRET, tokenFor, wsClient, type ApiWorld } from '../support/api-harness';
import { testConfig } from '../support/services';

/** A query failing inside the server, as a driver error with a connection string would. */
@Resolver()
class ExplodingResolver {
  @Query(() => String, { description: 'Test only: fails with an internal error.' })
  explode(): string {
    throw new Error('connect failed: mongodb://admin:hunter2@db.internal:27017');
  }
}

let world: ApiWorld;
let strict: ApiServer;
let token: string;
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body });

beforeAll(async () => {
  world = await startApiWorld('api-http');
  strict = await world.startAnotherInstance({ limits: { maxDepth: 3, maxCost: 50 } });
  token = await tokenFor({ sub: 'customer-http', role: 'CUSTOMER' });
});

afterAll(async () => {
  await world?.stop();
});

describe('health', () => {
  it('GET /health is 200 {status:"ok"} with Kafka and Mongo up', async () => {
    const response = await fetch(new URL('/health', world.api.graphqlUrl));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});

describe('limits', () => {
  it('refuses a body over 64 KiB with 413', async () => {
    const response = await post(world.api.graphqlUrl, JSON.stringify({ query: `{ restaurants { id } } # ${'x'.repeat(70_000)}` }));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await post(world.api.graphqlUrl, '{"query":');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('refuses an operation nested deeper than allowed', async () => {
    const answer = await gql(strict.graphqlUrl, MyOrdersDocument, {}, token);
    expect(answer.status).toBe(400);
    expect(onlyError(answer)).toMatchObject({ code: 'QUERY_TOO_DEEP', message: expect.stringMatching(/depth limit of 3 exceeded, found 4/) });
  });

  it('refuses an operation costing more than allowed, counting page sizes', async () => {
    const response = await post(strict.graphqlUrl, JSON.stringify({ query: '{ a: restaurants { id } b: restaurants { id } c: myOrders(first: 100) { pageInfo { hasNextPage } } }' }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/costs \d+; at most 50/), extensions: { code: 'QUERY_TOO_COSTLY' } }] });
  });

  it('the default cost limit stops a batch of full pages', async () => {
    const page = 'myOrders(first: 100) { edges { cursor node { id status totalCents items { name quantity lineTotalCents } statusHistory { status at } } } }';
    const response = await post(world.api.graphqlUrl, JSON.stringify({ query: `{ a: ${page} b: ${page} c: ${page} d: ${page} }` }));
    expect(await response.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/at most 5000/) }] });
  });

  it('applies the same limits to subscriptions', async () => {
    const client = wsClient(strict.websocketUrl, token);
    const fields = 'orderId '.repeat(60);
    const errors = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: `subscription { orderStatusChanged { ${fields} } }` }, { next: resolve, error: resolve, complete: () => undefined });
    });
    expect(errors).toMatchObject([{ message: expect.stringMatching(/at most 50/), extensions: { code: 'QUERY_TOO_COSTLY' } }]);
    await client.dispose();
  });
});

describe('GraphQL over HTTP', () => {
  it('allows introspection (GraphiQL needs it)', async () => {
    const response = await post(world.api.graphqlUrl, JSON.stringify({ query: '{ __schema { queryType { name } } }' }));
    expect(await response.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('keeps CSRF prevention on: a GET query or a text/plain POST without a preflight header is refused', async () => {
    const get = await fetch(`${world.api.graphqlUrl}?query=${encodeURIComponent('{ restaurants { id } }')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/CSRF/);
    const plain = await post(world.api.graphqlUrl, JSON.stringify({ query: '{ restaurants { id } }' }), { 'content-type': 'text/plain' });
    expect(plain.status).toBe(400);
  });

  it('answers an unknown field without a stack trace', async () => {
    const response = await post(world.api.graphqlUrl, JSON.stringify({ query: '{ nope }' }));
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]?.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });
});

describe('GraphiQL and development tokens', () => {
  /** Another instance on this world's namespace and database, configured from this environment as a process would be. */
  const instanceWith = (env: NodeJS.ProcessEnv) =>
    world.startAnotherInstance({ extraResolvers: [ExplodingResolver] }, testConfig({ KAFKA_NAMESPACE: world.config.kafka.namespace, MONGO_URL: world.config.mongo.url, ...env }));
  let development: ApiServer;

  beforeAll(async () => {
    // ./dev up without JWT_SECRET: the API generates one, and only then signs demo tokens.
    development = await instanceWith({ NODE_ENV: 'development', JWT_SECRET: '' });
  });

  it('serves GraphiQL to a browser, self-contained, with the demo customer token pre-filled', async () => {
    const response = await fetch(development.graphqlUrl, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('Food ordering API');
    expect(html).toContain(`Bearer ${development.developmentTokens?.customer}`);
    expect(html).toContain('"subscriptionsProtocol":"WS"');
    // Offline: nothing is loaded from another host.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
  });

  it('the printed tokens work: the customer has an email, the restaurant one of the catalog', async () => {
    const tokens = development.developmentTokens;
    expect((await gql(development.graphqlUrl, MeDocument, {}, tokens?.customer)).data?.me).toMatchObject({ role: 'CUSTOMER', email: expect.stringContaining('@') });
    expect((await gql(development.graphqlUrl, MeDocument, {}, tokens?.restaurant)).data?.me).toMatchObject({ role: 'RESTAURANT', restaurantId: 'pizzeria-napoli' });
    expect((await gql(development.graphqlUrl, MeDocument, {}, tokens?.admin)).data?.me.role).toBe('ADMIN');
    expect((await gql(development.graphqlUrl, RestaurantsDocument, {}, tokens?.customer)).data?.restaurants).toHaveLength(3);
  });

  it('signs no demo token with a secret the operator gave, in development or test', async () => {
    expect(world.api.developmentTokens).toBeNull();
    const given = await instanceWith({ NODE_ENV: 'development', JWT_SECRET: TEST_JWT_SECRET });
    expect(given.developmentTokens).toBeNull();
    // Tokens signed with the generated secret are worthless elsewhere.
    expect((await gql(world.api.graphqlUrl, MeDocument, {}, development.developmentTokens?.admin)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  describe('in production', () => {
    let production: ApiServer;
    beforeAll(async () => {
      production = await instanceWith({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, KAFKA_ALLOW_UNDER_REPLICATION: 'true' });
    });
    const postTo = (server: ApiServer, query: string) => post(server.graphqlUrl, JSON.stringify({ query }));

    it('serves no GraphiQL and prints no tokens', async () => {
      const response = await fetch(production.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(await response.text()).not.toContain('Food ordering API');
      expect(production.developmentTokens).toBeNull();
    });

    it('refuses introspection over HTTP and WebSocket', async () => {
      const response = await postTo(production, '{ __schema { queryType { name } } }');
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/introspection/i), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
      const client = wsClient(production.websocketUrl, token);
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe({ query: '{ __type(name: "Order") { name } }' }, { next: resolve, error: resolve, complete: () => undefined });
      });
      expect(errors).toMatchObject([{ message: expect.stringMatching(/introspection/i) }]);
      await client.dispose();
    });

    it('answers introspection where GRAPHQL_INTROSPECTION=true', async () => {
      const opened = await instanceWith({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, KAFKA_ALLOW_UNDER_REPLICATION: 'true', GRAPHQL_INTROSPECTION: 'true' });
      expect(await (await postTo(opened, '{ __schema { queryType { name } } }')).json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    });

    it('answers an internal failure without its message or stack', async () => {
      const body = JSON.stringify(await (await postTo(production, '{ explode }')).json());
      expect(JSON.parse(body)).toMatchObject({ errors: [{ message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      expect(body).not.toMatch(/hunter2|stacktrace|at Exploding/);
    });
  });
});
