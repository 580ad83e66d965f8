import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationLabel, outcomeLabel, rootFieldNames } from './metrics-plugin';

const schema = buildSchema(`
  type Query { orders: [String] restaurants: [String] }
  type Mutation { placeOrder: String }
  type Subscription { orderStatusChanged: String }
`);
const roots = rootFieldNames(schema);
const operationOf = (text: string) => parse(text).definitions[0] as OperationDefinitionNode;

describe('rootFieldNames', () => {
  it("is every query, mutation and subscription field", () => {
    expect([...roots].sort()).toEqual(['orderStatusChanged', 'orders', 'placeOrder', 'restaurants']);
  });
});

describe('operationLabel', () => {
  it('is the first root field selected, whatever the operation or alias is called', () => {
    expect(operationLabel(operationOf('mutation Checkout { mine: placeOrder }'), roots)).toBe('placeOrder');
    expect(operationLabel(operationOf('{ __typename orders restaurants }'), roots)).toBe('orders');
  });

  it('is "other" for a field the schema lacks, introspection only, a fragment at the root, or nothing parsed', () => {
    expect(operationLabel(operationOf('{ order4711 }'), roots)).toBe('other');
    expect(operationLabel(operationOf('{ __schema { types { name } } }'), roots)).toBe('other');
    expect(operationLabel(operationOf('{ ... on Query { orders } }'), roots)).toBe('other');
    expect(operationLabel(undefined, roots)).toBe('other');
  });
});

describe('outcomeLabel', () => {
  it('is "ok" without errors, else the first error\'s code', () => {
    expect(outcomeLabel(undefined)).toBe('ok');
    expect(outcomeLabel([])).toBe('ok');
    expect(outcomeLabel([{ message: 'no', extensions: { code: 'FORBIDDEN' } }, { message: 'x', extensions: { code: 'NOT_FOUND' } }])).toBe('FORBIDDEN');
  });

  it('never lets an odd code become a label', () => {
    expect(outcomeLabel([{ message: 'no code' }])).toBe('INTERNAL_SERVER_ERROR');
    expect(outcomeLabel([{ message: 'odd', extensions: { code: 'order 42 for jane@example.com' } }])).toBe('INTERNAL_SERVER_ERROR');
  });
});
