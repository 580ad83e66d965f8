/**
 * Where each partition's round is (loading, persisting, producing, committing…) and since when.
 * Every call a round makes is bounded on its own (store deadlines, the gateway's and SMTP's
 * timeouts, kafkajs' retries), so a round that stays at one step far longer is hung on
 * something those bounds missed. kafkajs fetches a broker's partitions together and waits for
 * every batch of a fetch, so one hung round stops the whole consumer, silently: CI's store
 * outage drill once left a transactions consumer with 232 messages unworked and nothing in
 * the audit to say where.
 *
 * The watchdog names such a round in the log (once a minute, from `warnAfterMs`), and when the
 * step is one made only of self-bounded calls to the store and the providers (`load`,
 * `persist`, the restart ledger), past `stuckAfterMs` it calls `onStuck`: the runner stops the
 * process without committing, for its supervisor to restart it. Kafka steps are only logged:
 * kafkajs waits out a broker outage there by design.
 */
import type { Logger } from '../logger';

export type RoundStep = 'load' | 'persist' | 'publish' | 'dead-letter' | 'retry-wait' | 'commit' | 'ledger' | 'check-in';

/** Steps made only of calls that carry their own deadline: held past the limit, nothing will free them. */
const SELF_BOUNDED: ReadonlySet<RoundStep> = new Set<RoundStep>(['load', 'persist', 'ledger']);

export interface StepEntry {
  readonly topic: string;
  readonly partition: number;
  readonly step: RoundStep;
  readonly since: number;
}

export interface OverdueStep extends StepEntry {
  readonly ms: number;
  /** Past the stuck limit at a self-bounded step. */
  readonly stuck: boolean;
}

/** PURE: the rounds at one step for `warnAfterMs` or more, and whether each is stuck for good. */
export function overdueSteps(entries: Iterable<StepEntry>, now: number, limits: { readonly warnAfterMs: number; readonly stuckAfterMs: number }): OverdueStep[] {
  const overdue: OverdueStep[] = [];
  for (const entry of entries) {
    const ms = now - entry.since;
    if (ms >= limits.warnAfterMs) overdue.push({ ...entry, ms, stuck: ms >= limits.stuckAfterMs && SELF_BOUNDED.has(entry.step) });
  }
  return overdue;
}

export interface RoundWatchdog {
  /** The partition's round is now at `step`. */
  at(topic: string, partition: number, step: RoundStep): void;
  /** The partition's batch is over (finished, abandoned or failed). */
  done(topic: string, partition: number): void;
  stop(): void;
}

export interface RoundWatchdogOptions {
  readonly log: Logger;
  readonly stuckAfterMs: number;
  /** @default 60 s, or stuckAfterMs if that is less */
  readonly warnAfterMs?: number;
  /** Called once, for the first round found stuck. */
  readonly onStuck: (stuck: OverdueStep) => void;
  /** @default 10 s, or a quarter of stuckAfterMs if that is less */
  readonly checkEveryMs?: number;
  readonly now?: () => number;
}

export function watchRounds(options: RoundWatchdogOptions): RoundWatchdog {
  const now = options.now ?? Date.now;
  const limits = { warnAfterMs: options.warnAfterMs ?? Math.min(60_000, options.stuckAfterMs), stuckAfterMs: options.stuckAfterMs };
  const steps = new Map<string, StepEntry>();
  const warnedAt = new Map<string, number>();
  let stuckReported = false;
  const keyOf = (topic: string, partition: number) => `${topic}|${partition}`;

  const check = () => {
    const at = now();
    for (const overdue of overdueSteps(steps.values(), at, limits)) {
      const key = keyOf(overdue.topic, overdue.partition);
      if (overdue.stuck && !stuckReported) {
        stuckReported = true;
        options.onStuck(overdue);
        continue;
      }
      if (at - (warnedAt.get(key) ?? 0) < 60_000) continue;
      warnedAt.set(key, at);
      const { topic, partition, step, ms } = overdue;
      options.log.error({ topic, partition, step, seconds: Math.round(ms / 1000) }, `a ${topic} round has been at ${step} for ${Math.round(ms / 1000)} s`);
    }
  };
  const timer = setInterval(check, options.checkEveryMs ?? Math.min(10_000, options.stuckAfterMs / 4));
  timer.unref();

  return {
    at(topic, partition, step) {
      steps.set(keyOf(topic, partition), { topic, partition, step, since: now() });
    },
    done(topic, partition) {
      steps.delete(keyOf(topic, partition));
      warnedAt.delete(keyOf(topic, partition));
    },
    stop: () => clearInterval(timer),
  };
}
