/**
 * Every code an error of ours may carry. The first group reaches API clients as the GraphQL
 * `extensions.code` (the README lists them); the rest name failures inside the pipeline (dead
 * letters carry them in `dlq-error-code`). A misspelt code fails to compile.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  // query limits (src/http/operation-limits.ts), one code per limit, each answered with HTTP 400
  | 'TOO_MANY_TOKENS'
  | 'QUERY_TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_DIRECTIVES'
  | 'QUERY_TOO_COSTLY'
  /** Too many requests of one kind from one customer, address or socket: `extensions.retryAfterSeconds` says when to try again. */
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR'
  // inside the pipeline
  | 'IN_PROGRESS'
  | 'INVALID_EVENT'
  | 'MAIL_REJECTED'
  | 'PAYMENT_REJECTED'
  /** A dependency refuses us for a reason of ours (SMTP credentials, a gateway's configuration): no message passes until an operator fixes it. */
  | 'MISCONFIGURED'
  /** The environment's configuration is invalid (src/config.ts): the process does not start. */
  | 'INVALID_CONFIG'
  // the local stack
  | 'STACK_ERROR';

/**
 * The one error base of the product. `code` is stable (it becomes the GraphQL
 * `extensions.code`); `retriable` is what retry and dead-letter decisions read, never the
 * message text.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { readonly retriable?: boolean; readonly cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }

  get retriable(): boolean {
    return this.options.retriable ?? false;
  }
}

/** True when an operation that threw `error` may succeed if simply tried again. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof AppError) return error.retriable;
  // kafkajs marks its own errors; network errors from drivers are worth another try too.
  if (typeof error === 'object' && error !== null && 'retriable' in error) return Boolean(error.retriable);
  return false;
}
