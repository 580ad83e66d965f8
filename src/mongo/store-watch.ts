/**
 * Tells a store that is away from a client of ours that no longer reaches it. While MongoDB
 * is away a process waits it out: a consumer's rounds fail as unreachable and come again, the
 * API answers UNAVAILABLE, and both resume when the store is back. But the driver (mongodb
 * 7.8) can lose the server for good: CI's store outage drill caught an API whose server
 * monitor sat "monitoring" on a connection already closed, the server Unknown (read
 * ECONNRESET) and the pool paused, with no new connection tried for minutes while FerretDB
 * answered everyone else; the stop before, a transactions consumer the same way.
 *
 * So when nothing has reached the store for `stuckAfterMs` (the connection says disconnected
 * and has not said reconnected; a consumer's attempts fail as unreachable), the watch asks the
 * store itself on a connection of its own. If it answers, the fault is in this process's
 * client: `onWedged` (the process stops for its supervisor to start a fresh one). If it does
 * not, the store is really away: waiting goes on, and the watch asks again a limit later.
 */
import type { Config } from '../config';
import type { Logger } from '../logger';
import { answersPing } from './ping';

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
}

export function watchStoreClient(options: StoreWatchOptions): StoreWatch {
  let failingSince: number | null = null;
  let askedAt = 0;
  let asking = false;
  let wedged = false;

  const check = () => {
    if (failingSince === null || asking || wedged) return;
    const at = Date.now();
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
        const seconds = Math.round((Date.now() - failingSince) / 1000);
        if (!answers) {
          options.log.warn({ seconds }, `MongoDB unreachable for ${seconds} s, from a connection of its own too: still waiting for it`);
          return;
        }
        wedged = true;
        options.onWedged(Date.now() - failingSince);
      });
  };
  const timer = setInterval(check, Math.min(10_000, options.stuckAfterMs / 4));
  timer.unref();

  return {
    unreachable() {
      failingSince ??= Date.now();
    },
    reached() {
      failingSince = null;
    },
    stop: () => clearInterval(timer),
  };
}

/** Feeds a watch from the connection's own view: unreachable from `disconnected` until it says it is back. */
/** What the watch reads of a mongoose connection: its disconnected/reconnected/connected events. */
type ConnectionEvents = { on(event: string, listener: () => void): unknown };

export function followConnection(connection: ConnectionEvents, watch: Pick<StoreWatch, 'unreachable' | 'reached'>): void {
  connection.on('disconnected', () => watch.unreachable());
  connection.on('reconnected', () => watch.reached());
  connection.on('connected', () => watch.reached());
}

/**
 * The watch of one process's MongoDB connection, as the API and the consumer runner keep it:
 * timed by MONGO_CLIENT_STUCK_MS, asking the store at its URL, following the connection's
 * events; `onWedged` gets the reason, for the process to stop and be started afresh.
 */
export function watchStoreConnection(
  connection: ConnectionEvents,
  { config, log, onWedged }: { config: Config; log: Logger; onWedged: (why: string) => void },
): StoreWatch {
  const watch = watchStoreClient({
    log,
    stuckAfterMs: config.mongo.clientStuckMs,
    storeAnswers: () => answersPing(config.mongo.url, 5_000),
    onWedged: (ms) => onWedged(`MongoDB answers a connection of its own, but this process has not reached it for ${Math.round(ms / 1000)} s (past MONGO_CLIENT_STUCK_MS): its client is wedged`),
  });
  followConnection(connection, watch);
  return watch;
}
