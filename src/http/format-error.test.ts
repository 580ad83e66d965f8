import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthenticatedError } from '../auth/auth.errors';
import { InvalidInputError, OrderTransitionError } from '../domain/domain.errors';
import { AppError } from '../errors';
import { EventPublishError } from '../kafka/event-producer';
import { NotFoundError } from '../resolvers/resolver.errors';
import { RateLimitedError } from '../rate-limits/rate-limits';
import { formatApiError, formatGraphQLErrors } from './format-error';

/** What Apollo and graphql-js hand formatError for an error thrown in a resolver. */
function fromResolver(error: Error) {
  const wrapped = new GraphQLError(error.message, { path: ['placeOrder'], originalError: error });
  return formatApiError({ ...wrapped.toJSON(), extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at secret.ts:1'] } }, wrapped);
}

describe('formatApiError', () => {
  it('maps AppError codes to extensions.code, keeping the path', () => {
    expect(fromResolver(new UnauthenticatedError('the access token has expired'))).toEqual({
      message: 'the access token has expired',
      path: ['placeOrder'],
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(fromResolver(new ForbiddenError('no')).extensions?.code).toBe('FORBIDDEN');
    expect(fromResolver(new NotFoundError('order', 'o-1')).extensions?.code).toBe('NOT_FOUND');
    expect(fromResolver(new OrderTransitionError('PLACED', 'advance to PREPARING'))).toMatchObject({
      message: 'cannot advance to PREPARING an order that is PLACED',
      extensions: { code: 'CONFLICT' },
    });
    expect(fromResolver(new EventPublishError(new Error('broker down'))).extensions?.code).toBe('UNAVAILABLE');
  });

  it('names the field of BAD_USER_INPUT', () => {
    expect(fromResolver(new InvalidInputError('items[0].quantity', 'quantity must be…')).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'items[0].quantity' });
  });

  it('hides unexpected errors, their message and stack', () => {
    const formatted = fromResolver(new TypeError('cannot read properties of undefined (secret internals)'));
    expect(formatted).toEqual({ message: 'internal server error', path: ['placeOrder'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(fromResolver(new AppError('INVALID_EVENT', 'internal detail')).message).toBe('internal server error');
  });

  it('answers an unreachable database as UNAVAILABLE', () => {
    const error = new Error('connection refused');
    error.name = 'MongoServerSelectionError';
    expect(fromResolver(error).extensions?.code).toBe('UNAVAILABLE');
  });

  it('keeps GraphQL\'s own request errors and their code, without a stack', () => {
    const error = new GraphQLError('Cannot query field "nope" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    const formatted = formatApiError({ ...error.toJSON(), extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: ['x'] } }, error);
    expect(formatted).toEqual({ message: error.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('hides GraphQL errors that are the server\'s fault', () => {
    const error = new GraphQLError('Cannot return null for non-nullable field Order.id.', { path: ['order', 'id'] });
    const formatted = formatApiError({ ...error.toJSON(), extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error);
    expect(formatted).toEqual({ message: 'internal server error', path: ['order', 'id'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
  it('answers an AppError wrapped without a path (a WebSocket operation refused or a stream ended) with its code', () => {
    const limited = new GraphQLError('too many subscriptions', { originalError: new RateLimitedError('too many subscriptions', 7) });
    expect(formatGraphQLErrors([limited])).toEqual([{ message: 'too many subscriptions', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 7 } }]);
    const capped = new GraphQLError('too many operations', { originalError: new RateLimitedError('too many operations', null) });
    expect(formatGraphQLErrors([capped])[0]?.extensions).toEqual({ code: 'RATE_LIMITED' });
  });
});
