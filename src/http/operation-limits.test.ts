import { buildSchema, parse } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRAPHIQL_INTROSPECTION } from './graphiql-introspection.fixture';
import { describe, expect, it } from 'vitest';
import { asksIntrospection, DEFAULT_LIMITS, operationCostError, screenOperation, type OperationLimits } from './operation-limits';

// The emitted contract: enough to screen and price, no resolvers needed.
const schema = buildSchema(readFileSync(join(__dirname, '../schema/schema.graphql'), 'utf8'));

const codesOf = (query: string, limits: OperationLimits = DEFAULT_LIMITS) => (screenOperation(schema, query, limits).errors ?? []).map((e) => e.extensions.code);
const nest = (fields: readonly string[], leaf: string) => fields.reduceRight((inner, field) => `${field} { ${inner} }`, leaf);

describe('screenOperation (GraphQL Armor, before validation)', () => {
  it('passes an app query and GraphiQL\'s introspection query', () => {
    expect(screenOperation(schema, '{ myOrders { edges { node { items { name } } } } }', DEFAULT_LIMITS).errors).toBeNull();
    expect(screenOperation(schema, GRAPHIQL_INTROSPECTION, DEFAULT_LIMITS).errors).toBeNull();
  });

  it('stops parsing at the token over the limit', () => {
    expect(codesOf(`{ ${'me { id } '.repeat(300)} }`)).toEqual(['TOO_MANY_TOKENS']);
    expect(codesOf('{ me { id } }', { ...DEFAULT_LIMITS, maxTokens: 5 })).toEqual(['TOO_MANY_TOKENS']);
  });

  it('tells a syntax error from a token flood', () => {
    expect(codesOf('{ me { id }')).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('counts introspection fields in the depth, fragments inlined', () => {
    expect(codesOf(`{ ${nest(['__schema', 'types', ...Array.from({ length: 7 }, () => ['fields', 'type']).flat()], 'name')} }`)).toEqual(['QUERY_TOO_DEEP']);
    const viaFragment = `{ __schema { ...T } } fragment T on __Schema { ${nest(['types', ...Array.from({ length: 7 }, () => ['fields', 'type']).flat()], 'name')} }`;
    expect(codesOf(viaFragment)).toEqual(['QUERY_TOO_DEEP']);
  });

  it('counts aliases and directives, in fragments too', () => {
    expect(codesOf(`{ ...F } fragment F on Query { ${Array.from({ length: 16 }, (_, i) => `m${i}: me { id }`).join(' ')} }`)).toEqual(['TOO_MANY_ALIASES']);
    expect(codesOf(`{ me { id ${'@skip(if: false) '.repeat(21)} } }`)).toEqual(['TOO_MANY_DIRECTIVES']);
  });

  it('answers one error per broken limit, whatever else is wrong', () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `m${i}: me { id @skip(if: false) @skip(if: false) }`).join(' ')} }`;
    expect(codesOf(query)).toEqual(['TOO_MANY_ALIASES', 'TOO_MANY_DIRECTIVES']);
  });

  it('bounds the errors of a document of many broken operations', () => {
    const operations = Array.from({ length: 60 }, (_, i) => `query Q${i} { ${Array.from({ length: 16 }, (_, j) => `a${j}: me { id }`).join(' ')} }`).join('\n');
    expect(codesOf(operations, { ...DEFAULT_LIMITS, maxTokens: 100_000 }).length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxErrors + 1);
  });
});

describe('operationCostError', () => {
  const cost = (query: string, variables?: Record<string, unknown>) => operationCostError(schema, parse(query), undefined, variables, DEFAULT_LIMITS);

  it("prices introspection lists by what they return: GraphiQL's query passes, lists nested in lists do not", () => {
    expect(cost(GRAPHIQL_INTROSPECTION)).toBeNull();
    const listsInLists = nest(['__schema', 'types', 'fields', 'args', 'type', 'fields', 'args', 'type', 'enumValues'], 'name');
    expect(cost(`{ ${listsInLists} }`)).toMatchObject({ extensions: { code: 'QUERY_TOO_COSTLY' }, message: expect.stringMatching(/introspection costs/) });
  });
});

describe('asksIntrospection', () => {
  it('prices introspection only for texts that name __schema or __type (not __typename), and for unknown texts', () => {
    expect(asksIntrospection('{ __schema { types { name } } }')).toBe(true);
    expect(asksIntrospection('query { x: __type(name: "Order") { fields { name } } }')).toBe(true);
    expect(asksIntrospection('mutation { placeOrder(input: $input) { id __typename } }')).toBe(false);
    expect(asksIntrospection(undefined)).toBe(true);
  });
});
