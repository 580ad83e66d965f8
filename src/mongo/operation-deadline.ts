import type { Connection, MongooseQueryMiddleware, Query, Schema } from 'mongoose';

/*
 * A hard deadline on every store operation, carried as the driver's abort `signal`.
 *
 * socketTimeoutMS alone does not bound an operation: when a command is written to a socket
 * whose buffer is full, or that the server has just closed, the driver (mongodb 7.8) waits for
 * the socket's `drain` event, and a socket that closes or times out never emits it, so the
 * operation never settles and its connection stays checked out for good. Drill 4 found four
 * placeOrder requests hanging that way after the store was killed. An aborted signal ends
 * that wait (the driver listens for it there, in server selection and in pool checkout), fails
 * the operation with StoreDeadlineExceeded (transient: mongo-errors.ts) and closes the
 * connection.
 */

/**
 * The operation did not finish within MONGO_OPERATION_TIMEOUT_MS; it may or may not have been
 * applied. The driver copies a failure's own fields onto the bulk error it wraps it in, so
 * `storeDeadlineMs` marks both (and `name` stays on the prototype: the copy cannot set it).
 */
export class StoreDeadlineExceeded extends Error {
  constructor(readonly storeDeadlineMs: number) {
    super(`the MongoDB operation did not finish within ${storeDeadlineMs} ms`);
  }
}
Object.defineProperty(StoreDeadlineExceeded.prototype, 'name', { value: 'StoreDeadlineExceeded' });

/** Whether `error` is, or wraps, an operation stopped at its deadline. */
export function isStoreDeadlineExceeded(error: object): boolean {
  return 'storeDeadlineMs' in error;
}

const deadlines = new WeakMap<Connection, number>();

/** An abort signal that fires `ms` from now. Its timer does not keep the process alive. */
export function deadlineSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new StoreDeadlineExceeded(ms)), ms).unref();
  return controller.signal;
}

/**
 * Options for one driver call on a model's collection (`model.collection`, which knows its
 * connection): the connection's deadline as a signal, or nothing when it has none.
 */
export function deadlineOptions(collection: object): { signal?: AbortSignal } {
  const connection = (collection as { conn?: Connection }).conn;
  const ms = connection && deadlines.get(connection);
  return ms === undefined ? {} : { signal: deadlineSignal(ms) };
}

const QUERY_OPERATIONS: MongooseQueryMiddleware[] = [
  'countDocuments',
  'distinct',
  'estimatedDocumentCount',
  'find',
  'findOne',
  'findOneAndReplace',
  'findOneAndUpdate',
  'replaceOne',
  'updateMany',
  'updateOne',
  'deleteMany',
  'deleteOne',
  'findOneAndDelete',
];

/**
 * Gives every operation of the connection's models a deadline of `ms`, unless the caller set a
 * signal of its own: queries and aggregations through middleware (registered before any
 * model is compiled), direct collection calls through deadlineOptions (src/mongo/bulk.ts).
 */
export function applyOperationDeadlines(connection: Connection, ms: number): void {
  deadlines.set(connection, ms);
  connection.plugin((schema: Schema) => {
    schema.pre(QUERY_OPERATIONS, function (this: Query<unknown, unknown>) {
      if (this.getOptions().signal === undefined) this.setOptions({ signal: deadlineSignal(ms) });
    });
    schema.pre('aggregate', function () {
      const options = this.options as { signal?: AbortSignal };
      if (options.signal === undefined) options.signal = deadlineSignal(ms);
    });
  });
}
