import type { Consumer } from 'kafkajs';

/** The part of a kafkajs consumer a watch listens to (its instrumentation events). */
export type WatchedConsumer = Pick<Consumer, 'on' | 'events'>;

export interface ConsumerWatch {
  /** Why the consumer is not doing its work now, or null when it is. */
  problem(): string | null;
  /** Stops listening. */
  close(): void;
}

export interface ConsumerWatchOptions {
  /**
   * No fetch started and no batch finished for this long counts as stalled: an idle kafkajs
   * consumer starts a fetch at least every maxWaitTimeInMs (5 s by default), even with no
   * partition assigned, so only a batch stuck in its work or a consumer that cannot reach a
   * broker stays quiet this long.
   */
  readonly stallAfterMs: number;
  /** The consumer has joined already (a watch made after its GROUP_JOIN). @default false */
  readonly joined?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Follows one kafkajs consumer through its events, for readiness: not joined yet (or again,
 * after a crash), crashed (kafkajs' CRASH, whether it restarts itself or not), stopped (STOP,
 * by whoever), or stalled (see stallAfterMs).
 */
export function watchConsumer(consumer: WatchedConsumer, options: ConsumerWatchOptions): ConsumerWatch {
  const now = options.now ?? Date.now;
  let state: 'joining' | 'joined' | 'crashed' | 'stopped' = options.joined ? 'joined' : 'joining';
  let lastProgressAt = now();
  const progress = () => {
    lastProgressAt = now();
  };
  const removers = [
    consumer.on(consumer.events.GROUP_JOIN, () => {
      state = 'joined';
      progress();
    }),
    consumer.on(consumer.events.FETCH_START, progress),
    consumer.on(consumer.events.END_BATCH_PROCESS, progress),
    consumer.on(consumer.events.CRASH, () => {
      state = 'crashed';
    }),
    consumer.on(consumer.events.STOP, () => {
      state = 'stopped';
    }),
  ];
  return {
    problem() {
      if (state === 'joining') return 'not joined to its group yet';
      if (state === 'crashed') return 'crashed; rejoining';
      if (state === 'stopped') return 'stopped';
      const quietMs = now() - lastProgressAt;
      return quietMs > options.stallAfterMs ? `stalled: no fetch or finished batch for ${Math.round(quietMs / 1000)} s` : null;
    },
    close() {
      for (const remove of removers) remove();
    },
  };
}
