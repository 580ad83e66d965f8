/**
 * Gathers calls made close together and serves them with one bulk operation: concurrent
 * requests share one round trip (a store query, a produce) instead of each paying for its own.
 */
export interface MicroBatchOptions {
  /** How long the first call of a batch waits for company; 0 = only calls made in the same turn of the event loop. @default 0 */
  readonly windowMs?: number;
  /** A batch this full is flushed at once. @default 500 */
  readonly maxBatch?: number;
}

/**
 * Returns a function that queues its input and resolves with its own result once `flush` has
 * served the whole batch (`flush` returns one result per input, in order). If `flush` throws,
 * every call of that batch rejects with the same error.
 */
export function microBatch<In, Out>(flush: (inputs: In[]) => Promise<readonly Out[]>, options: MicroBatchOptions = {}): (input: In) => Promise<Out> {
  const { windowMs = 0, maxBatch = 500 } = options;
  let queue: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  let cancel: (() => void) | undefined;

  const run = () => {
    const batch = queue;
    queue = [];
    cancel = undefined;
    flush(batch.map((b) => b.input)).then(
      (outs) => batch.forEach((b, i) => (i < outs.length ? b.resolve(outs[i]!) : b.reject(new Error(`micro-batch flush answered ${outs.length} of ${batch.length} inputs`)))),
      (error: unknown) => batch.forEach((b) => b.reject(error)),
    );
  };

  return (input) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (queue.length >= maxBatch) {
        cancel?.();
        run();
      } else if (cancel === undefined) {
        if (windowMs > 0) {
          const timer = setTimeout(run, windowMs);
          cancel = () => clearTimeout(timer);
        } else {
          const immediate = setImmediate(run);
          cancel = () => clearImmediate(immediate);
        }
      }
    });
}

/**
 * Group commit: one `flush` at a time, and every call made while one runs goes together in the
 * next. Nothing waits for company when nothing is running (no added latency when idle), and
 * under load the batches grow by themselves to match how long a flush takes.
 */
export function whileBusy<In, Out>(flush: (inputs: In[]) => Promise<readonly Out[]>, options: { readonly maxBatch?: number } = {}): (input: In) => Promise<Out> {
  const { maxBatch = 500 } = options;
  const queue: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  let busy = false;

  async function drain(): Promise<void> {
    busy = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        const outs = await flush(batch.map((b) => b.input));
        batch.forEach((b, i) => (i < outs.length ? b.resolve(outs[i]!) : b.reject(new Error(`flush answered ${outs.length} of ${batch.length} inputs`))));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    busy = false;
  }

  return (input) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!busy) void drain();
    });
}
