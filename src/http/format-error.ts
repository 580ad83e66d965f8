import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { InvalidInputError } from '../domain/domain.errors';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { isTransientMongoError } from '../mongo/mongo-errors';
import { RateLimitedError } from '../rate-limits/rate-limits';

/** The codes clients are promised (DESIGN.md); any other failure is INTERNAL_SERVER_ERROR. */
export const CLIENT_ERROR_CODES = ['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'UNAVAILABLE', 'RATE_LIMITED'] as const;
const clientCodes = new Set<string>(CLIENT_ERROR_CODES);

const INTERNAL = { message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } } as const;

/**
 * The one formatError of HTTP and WebSocket answers: AppError.code becomes extensions.code,
 * BAD_USER_INPUT names its field, GraphQL's own errors keep their code, and anything
 * unexpected is logged and answered without its message or stack.
 */
export function formatApiError(formatted: GraphQLFormattedError, error: unknown, log?: Logger): GraphQLFormattedError {
  // An AppError wrapped without a path (a WebSocket operation refused before it ran, a stream
  // that ended with an error) is the error too: Apollo's unwrap only looks at resolver errors.
  const original = error instanceof GraphQLError && error.originalError instanceof AppError ? error.originalError : unwrapResolverError(error);
  const { locations, path } = formatted;
  const where = { ...(locations ? { locations } : {}), ...(path ? { path } : {}) };

  if (original instanceof AppError && clientCodes.has(original.code)) {
    const field = original instanceof InvalidInputError ? { field: original.field } : {};
    const wait = original instanceof RateLimitedError && original.retryAfterSeconds !== null ? { retryAfterSeconds: original.retryAfterSeconds } : {};
    return { message: original.message, ...where, extensions: { code: original.code, ...field, ...wait } };
  }
  // The database unreachable right now, not this request wrong: the one decision consumers use too.
  if (isTransientMongoError(original)) {
    log?.warn({ err: original }, 'database unavailable');
    return { message: 'the order service cannot reach its database right now; try again shortly', ...where, extensions: { code: 'UNAVAILABLE' } };
  }
  const code = formatted.extensions?.code;
  if (original instanceof GraphQLError && typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    // Parse, validation, variable and limit errors: about the request, safe to show.
    const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
    return { message: formatted.message, ...where, extensions: { ...extensions, code } };
  }
  log?.error({ err: original, path }, 'unexpected error answering a GraphQL request');
  return { ...INTERNAL, ...where };
}

/** Formats raw GraphQLErrors (the WebSocket path, which Apollo's formatError does not see). */
export function formatGraphQLErrors(errors: readonly GraphQLError[], log?: Logger): GraphQLFormattedError[] {
  return errors.map((e) => formatApiError(e.toJSON(), e, log));
}
