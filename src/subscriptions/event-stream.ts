import { AppError } from '../errors';

/** An async iterator that can also be closed by its producer side (when the server stops). */
export interface EventStream<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T, undefined>>;
}

/** Raised to a subscriber that fell this many events behind: it reconnects rather than eat memory. */
export class SlowSubscriberError extends AppError {
  constructor(capacity: number) {
    super('UNAVAILABLE', `the subscription fell more than ${capacity} events behind; subscribe again`, { retriable: true });
  }
}

/**
 * A push-to-pull queue. It buffers from the moment it is created (unlike the library's
 * iterator, which only listens after the first `next()`): the subscription that reads the
 * current state after subscribing relies on that to lose nothing in between.
 */
export class EventQueue<T> implements EventStream<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: { resolve: (r: IteratorResult<T, undefined>) => void; reject: (e: unknown) => void }[] = [];
  private closed = false;
  /** Closed by its reader: nothing more is handed out. */
  private returned = false;
  private failure: unknown = null;

  /**
   * @param onClose told once, when the consumer or the producer side ends the stream.
   * @param capacity events held for a slow reader before it is failed. @default 1000
   */
  constructor(
    private readonly onClose: () => void,
    private readonly capacity = 1000,
  ) {}

  push(value: T): void {
    if (this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve({ value, done: false });
    else if (this.buffer.length >= this.capacity) this.fail(new SlowSubscriberError(this.capacity));
    else this.buffer.push(value);
  }

  /** Ends the stream with an error after what is already buffered was read. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = error;
    this.finish();
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.buffer.length > 0) {
      // A reader catching up takes one buffered value per turn of the event loop. Served at
      // once, ten thousand readers with a backlog each would run through all of it in one
      // stretch of microtasks, holding up sockets, HTTP and the Kafka consumer's heartbeats
      // for seconds; this way the loop gets a turn after every round of deliveries.
      const value = this.buffer.shift() as T;
      return new Promise((resolve) => setImmediate(() => resolve(this.returned ? { value: undefined, done: true } : { value, done: false })));
    }
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.returned = true;
    this.buffer.length = 0;
    this.finish();
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

/**
 * `first` values, then each source value that `map` keeps (returns non-undefined). Written
 * without an async generator on purpose: a generator's return() waits for its pending
 * next(), so a client unsubscribing from a quiet stream would never release the listener.
 */
export function transformStream<T, U>(source: EventStream<T>, map: (value: T) => U | undefined, first: readonly U[] = []): EventStream<U> {
  const pending = [...first];
  const stream: EventStream<U> = {
    async next() {
      if (pending.length > 0) return { value: pending.shift() as U, done: false };
      for (;;) {
        const result = await source.next();
        if (result.done) return { value: undefined, done: true };
        const mapped = map(result.value);
        if (mapped !== undefined) return { value: mapped, done: false };
      }
    },
    async return() {
      pending.length = 0;
      await source.return();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
