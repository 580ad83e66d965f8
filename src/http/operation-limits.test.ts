import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationDepth } from './operation-limits';

describe('operationDepth', () => {
  it('counts nested fields', () => {
    expect(operationDepth(parse('{ restaurants { id } }'))).toBe(2);
    expect(operationDepth(parse('{ myOrders { edges { node { items { name } } } } }'))).toBe(5);
  });

  it('follows fragments and inline fragments', () => {
    const document = parse(`
      query Q { order(id: "1") { ...F } }
      fragment F on Order { items { ... on OrderItem { name } } }
    `);
    expect(operationDepth(document)).toBe(3);
  });

  it('picks the named operation', () => {
    const document = parse('query A { me { id } } query B { myOrders { edges { node { id } } } }');
    expect(operationDepth(document, 'A')).toBe(2);
    expect(operationDepth(document, 'B')).toBe(4);
  });

  it('does not count introspection (GraphiQL\'s schema query is deep)', () => {
    expect(operationDepth(parse('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }'))).toBe(0);
  });

  it('survives a fragment cycle (validation reports it)', () => {
    expect(operationDepth(parse('{ me { ...A } } fragment A on Viewer { id ...B } fragment B on Viewer { ...A }'))).toBe(2);
  });
});
