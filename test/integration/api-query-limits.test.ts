/**
 * Query limits against the real API, as a hostile client tries them: every limit answers 400
 * with its own code and a bounded number of errors, over HTTP and WebSocket alike, while
 * GraphiQL's own introspection query keeps working where introspection is on.
 */
import { GRAPHIQL_INTROSPECTION } from '../../src/http/graphiql-introspection.fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiWorld, tokenFor, wsClient, type ApiWorld } from '../support/api-harness';

let world: ApiWorld;
let token: string;

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(query: string): Promise<Answer> {
  const response = await fetch(world.api.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const codes = (answer: Answer) => (answer.body.errors ?? []).map((e) => e.extensions?.code);

/** `{ a { b { c … leaf } } }` from field names. */
const nest = (fields: readonly string[], leaf: string) => fields.reduceRight((inner, field) => `${field} { ${inner} }`, leaf);


beforeAll(async () => {
  world = await startApiWorld('api-query-limits');
  token = await tokenFor({ sub: 'customer-limits', role: 'CUSTOMER' });
});

afterAll(async () => {
  await world?.stop();
});

describe('the floods of issue 8', () => {
  it('2,000 aliases of restaurants { id } are refused before any work (too many tokens)', async () => {
    const query = `{ ${Array.from({ length: 2000 }, (_, i) => `r${i}: restaurants { id }`).join(' ')} }`;
    const answer = await post(query);
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(codes(answer)).toEqual(['TOO_MANY_TOKENS']);
  });

  it('a 40-level nested introspection query is refused', async () => {
    const levels = ['__schema', 'types', ...Array.from({ length: 19 }, () => ['fields', 'type']).flat()];
    const answer = await post(`{ ${nest(levels, 'name')} }`);
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['QUERY_TOO_DEEP']);
  });

  it('500 repeated directives get one error, not 101', async () => {
    const answer = await post(`{ restaurants ${'@include(if: true) '.repeat(500)} { id } }`);
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['TOO_MANY_TOKENS']);
  });
});

describe('each limit, just over it, with its own code', () => {
  it('aliases: 16 are refused (TOO_MANY_ALIASES), 15 answered', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `r${i}: me { id }`).join(' ')} }`;
    const refused = await post(aliases(16));
    expect(refused.status).toBe(400);
    expect(codes(refused)).toEqual(['TOO_MANY_ALIASES']);
    expect((await post(aliases(15))).body.errors).toBeUndefined();
  });

  it('directives: 21 are refused (TOO_MANY_DIRECTIVES), 20 answered', async () => {
    const directives = (n: number) => `{ me { id ${'@skip(if: false) '.repeat(n)} } }`;
    const refused = await post(directives(21));
    expect(refused.status).toBe(400);
    expect(codes(refused)).toEqual(['TOO_MANY_DIRECTIVES']);
    // graphql-js refuses a repeated non-repeatable directive itself; one is within every limit.
    expect(codes(await post(directives(20)))).not.toContain('TOO_MANY_DIRECTIVES');
  });

  it('depth: 16 levels are refused (QUERY_TOO_DEEP), introspection fields counted', async () => {
    const answer = await post(`{ ${nest(['__schema', 'types', ...Array.from({ length: 7 }, () => ['fields', 'type']).flat()], 'name')} }`);
    expect(codes(answer)).toEqual(['QUERY_TOO_DEEP']);
  });

  it('introspection nesting lists in lists, within the depth and graphql-js\'s own introspection rule, is priced as it grows (QUERY_TOO_COSTLY)', async () => {
    const answer = await post(`{ ${nest(['__schema', 'types', 'fields', 'args', 'type', 'fields', 'args', 'type', 'enumValues'], 'name')} }`);
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('cost: four full pages of orders are refused (QUERY_TOO_COSTLY)', async () => {
    const page = 'myOrders(first: 100) { edges { cursor node { id status totalCents items { name quantity lineTotalCents } statusHistory { status at } } } }';
    const answer = await post(`{ a: ${page} b: ${page} c: ${page} d: ${page} }`);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toMatchObject([{ message: expect.stringMatching(/at most 5000/), extensions: { code: 'QUERY_TOO_COSTLY' } }]);
  });

  it('many broken operations in one document answer a bounded number of errors', async () => {
    const operations = Array.from({ length: 60 }, (_, i) => `query Q${i} { ${Array.from({ length: 16 }, (_, j) => `a${j}: me { id }`).join(' ')} }`).join('\n');
    const answer = await post(operations);
    expect(answer.status).toBe(400);
    expect(answer.body.errors!.length).toBeLessThanOrEqual(11);
  });

  it('the same limits hold over WebSocket', async () => {
    const client = wsClient(world.api.websocketUrl, token);
    const fields = Array.from({ length: 16 }, (_, i) => `f${i}: orderId`).join(' ');
    const errors = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: `subscription { orderStatusChanged { ${fields} } }` }, { next: resolve, error: resolve, complete: () => undefined });
    });
    expect(errors).toMatchObject([{ extensions: { code: 'TOO_MANY_ALIASES' } }]);
    await client.dispose();
  });
});

describe("GraphiQL's own introspection query", () => {
  it('is answered where introspection is on (15 levels, 184 tokens)', async () => {
    const answer = await post(GRAPHIQL_INTROSPECTION);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ __schema: { queryType: { name: 'Query' } } });
  });
});
