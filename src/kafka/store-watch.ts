/**
 * Tells a store that is away from a client of ours that no longer reaches it. While MongoDB
 * is away a consumer waits it out: its rounds fail as unreachable, are retried and delivered
 * again, and resume when the store is back. But if this process's driver never finds the store
 * again (a connection or monitor left waiting on a socket that closed under it: the driver
 * has such waits, see mongo/operation-deadline.ts), the same waiting goes on for good while
 * every other process works: the consumer heartbeats, holds its partitions and does nothing.
 *
 * So when the rounds have failed as unreachable for `stuckAfterMs` without one attempt reaching
 * the store, the watch asks the store itself on a connection of its own. If it answers, the
 * fault is in this process's client: `onWedged` (the runner stops the process, uncommitted,
 * for its supervisor to start a fresh one). If it does not, the store is really away: the
 * consumer goes on waiting, and the watch asks again after another `stuckAfterMs`.
 */
import type { Logger } from '../logger';

export interface StoreWatch {
  /** An attempt failed because MongoDB could not be reached (isTransientMongoError). */
  unreachable(): void;
  /** An attempt reached MongoDB (it did its work, or failed for another reason). */
  reached(): void;
  stop(): void;
}

export interface StoreWatchOptions {
  readonly log: Logger;
  readonly stuckAfterMs: number;
  /** Whether the store answers a connection of its own (mongo/ping.ts). */
  readonly storeAnswers: () => Promise<boolean>;
  /** Called once: the store answers, this process has not reached it for `ms`. */
  readonly onWedged: (ms: number) => void;
  /** @default 10 s, or a quarter of stuckAfterMs if that is less */
  readonly checkEveryMs?: number;
  readonly now?: () => number;
}

export function watchStoreClient(options: StoreWatchOptions): StoreWatch {
  const now = options.now ?? Date.now;
  let failingSince: number | null = null;
  let askedAt = 0;
  let asking = false;
  let wedged = false;

  const check = () => {
    if (failingSince === null || asking || wedged) return;
    const at = now();
    const ms = at - failingSince;
    if (ms < options.stuckAfterMs || at - askedAt < options.stuckAfterMs) return;
    asking = true;
    askedAt = at;
    options
      .storeAnswers()
      .catch(() => false)
      .then((answers) => {
        asking = false;
        if (failingSince === null) return; // reached it meanwhile
        const seconds = Math.round((now() - failingSince) / 1000);
        if (!answers) {
          options.log.warn({ seconds }, `MongoDB unreachable for ${seconds} s, from a connection of its own too: still waiting for it`);
          return;
        }
        wedged = true;
        options.onWedged(now() - failingSince);
      });
  };
  const timer = setInterval(check, options.checkEveryMs ?? Math.min(10_000, options.stuckAfterMs / 4));
  timer.unref();

  return {
    unreachable() {
      failingSince ??= now();
    },
    reached() {
      failingSince = null;
    },
    stop: () => clearInterval(timer),
  };
}
