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
 * Lets buffered reads run on in the current turn of the event loop for a time budget, then
 * makes the rest wait for the next turn, together (one setImmediate however many readers).
 * Thousands of readers catching up on a backlog would otherwise run through all of it in one
 * stretch of microtasks, holding up sockets, HTTP and the Kafka consumer's heartbeats for
 * seconds; a setImmediate per read would bound that too, but costs a fifth more CPU per delivery.
 */
export class LoopTurns {
  private budgetEnds: number | null = null;
  private gate: Promise<void> | null = null;

  /** @param budgetMs how long buffered reads may run on in one turn. */
  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** null: go on now; otherwise a promise that resolves in a later turn. */
  pass(): Promise<void> | null {
    if (this.gate) return this.gate;
    const now = this.now();
    if (this.budgetEnds === null) {
      this.budgetEnds = now + this.budgetMs;
      // The budget is this turn's: the next turn starts a new one.
      setImmediate(() => (this.budgetEnds = null));
      return null;
    }
    if (now < this.budgetEnds) return null;
    this.gate = new Promise((resolve) =>
      setImmediate(() => {
        this.gate = null;
        this.budgetEnds = null;
        resolve();
      }),
    );
    return this.gate;
  }
}

/** Shared by every queue of the process: the budget is the event loop's, not a queue's. */
const LOOP_TURNS = new LoopTurns(20);

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
   * @param turns when buffered values are handed out. @default the process's LoopTurns
   */
  constructor(
    private readonly onClose: () => void,
    private readonly capacity = 1000,
    private readonly turns: LoopTurns = LOOP_TURNS,
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
      // A reader catching up: at once while this turn of the event loop has budget left, else in the next.
      const value = this.buffer.shift() as T;
      const gate = this.turns.pass();
      if (gate === null) return Promise.resolve({ value, done: false });
      return gate.then(() => (this.returned ? { value: undefined, done: true } : { value, done: false }));
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
