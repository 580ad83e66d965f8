import { isStoreDeadlineExceeded } from './operation-deadline';

/**
 * What the MongoDB driver's failures mean for a caller, in one place: retry and dead-letter
 * decisions ask these instead of reading error texts all over the code.
 */

/** E11000: a unique index (or `_id`) already holds the key: someone else wrote first. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 11000;
}

/** Failures of reaching the server, not of the operation: the same write may succeed later. */
const TRANSIENT_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
]);

/** A socket failing under the driver, which passes some write failures on unwrapped (mongodb 7.8). */
const TRANSIENT_SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ERR_STREAM_DESTROYED']);

/** Server codes for "not now" (shutting down, not primary, interrupted): see the driver's retryable set. */
const TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** True when a MongoDB operation failed for a reason that waiting may cure (network, failover, shutdown). */
export function isTransientMongoError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  if (isUnreachedBulkWrite(error) || isStoreDeadlineExceeded(error)) return true;
  const labelled = error as Error & { hasErrorLabel?: (label: string) => boolean; code?: unknown };
  if (labelled.hasErrorLabel?.('RetryableWriteError') || labelled.hasErrorLabel?.('ResetPool')) return true;
  if (typeof labelled.code === 'number' && TRANSIENT_CODES.has(labelled.code)) return true;
  if (typeof labelled.code === 'string' && TRANSIENT_SOCKET_CODES.has(labelled.code)) return true;
  // While disconnected, mongoose queues operations and then fails them with a plain
  // MongooseError; this text is the only mark it gives (mongoose 9, `bufferTimeoutMS`).
  return error.name === 'MongooseError' && /buffering timed out/.test(error.message);
}

/**
 * A bulk write the server never answered: the driver wraps the network or server-selection
 * failure in a MongoBulkWriteError with no write error, copying the cause's own fields onto it
 * (`beforeHandshake` of a network error, `reason` of a failed server selection). Its name alone
 * would read as a refused write.
 */
function isUnreachedBulkWrite(error: Error): boolean {
  if (error.name !== 'MongoBulkWriteError') return false;
  const bulk = error as Error & { writeErrors?: unknown; err?: unknown };
  const writeErrors = Array.isArray(bulk.writeErrors) ? bulk.writeErrors : bulk.writeErrors ? [bulk.writeErrors] : [];
  return writeErrors.length === 0 && bulk.err === undefined && ('beforeHandshake' in error || 'reason' in error);
}
