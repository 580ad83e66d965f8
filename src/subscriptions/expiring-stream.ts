import { GraphQLError, type ExecutionResult } from 'graphql';

/**
 * A subscription's results until `deadlineMs` (epoch ms), checked as each result arrives: the
 * first one after it is replaced by a last result carrying `expired()`'s error, and the source
 * is closed. That is how a subscription authorised by a token stops at the token's expiry
 * (the client sees the error's code, e.g. UNAUTHENTICATED, as for UNAVAILABLE: subscribe again).
 */
export function endsAt(
  source: AsyncIterableIterator<ExecutionResult>,
  deadlineMs: number,
  expired: () => Error,
  now: () => number = Date.now,
): AsyncIterableIterator<ExecutionResult> {
  let ended = false;
  const close = async () => {
    await source.return?.();
  };
  const stream: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (ended) return { value: undefined, done: true };
      const result = await source.next();
      if (result.done || now() < deadlineMs) return result;
      ended = true;
      await close().catch(() => undefined);
      const error = expired();
      return { value: { errors: [new GraphQLError(error.message, { originalError: error })] }, done: false };
    },
    async return() {
      ended = true;
      await close();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      ended = true;
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
