import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger';
import { overdueSteps, watchRounds, type OverdueStep } from './round-watchdog';

const limits = { warnAfterMs: 60_000, stuckAfterMs: 120_000 };

describe('overdueSteps', () => {
  it('names rounds at one step for the warning time, and calls only self-bounded steps stuck', () => {
    const now = 1_000_000;
    const entries = [
      { topic: 'order.placed', partition: 0, step: 'persist' as const, since: now - 30_000 },
      { topic: 'order.placed', partition: 1, step: 'persist' as const, since: now - 90_000 },
      { topic: 'order.placed', partition: 2, step: 'load' as const, since: now - 120_000 },
      { topic: 'order.placed', partition: 3, step: 'publish' as const, since: now - 300_000 },
    ];
    expect(overdueSteps(entries, now, limits).map(({ partition, stuck, ms }) => ({ partition, stuck, ms }))).toEqual([
      { partition: 1, stuck: false, ms: 90_000 },
      { partition: 2, stuck: true, ms: 120_000 },
      // Kafka waits out a broker outage at publish and commit by design: named, never stuck.
      { partition: 3, stuck: false, ms: 300_000 },
    ]);
  });
});

describe('watchRounds', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  const quietLog = () => {
    const log = createLogger('test', { level: 'silent' });
    return { log, error: vi.spyOn(log, 'error') };
  };

  it('reports the first round stuck at a self-bounded step once, and forgets a partition whose batch is over', () => {
    const { log } = quietLog();
    const stuck: OverdueStep[] = [];
    const watchdog = watchRounds({ log, stuckAfterMs: 120_000, onStuck: (s) => stuck.push(s) });
    watchdog.at('order.placed', 0, 'load');
    watchdog.at('order.placed', 1, 'load');
    vi.advanceTimersByTime(50_000);
    watchdog.at('order.placed', 0, 'persist'); // moving on: its clock starts again
    vi.advanceTimersByTime(70_000);
    expect(stuck.map((s) => [s.partition, s.step])).toEqual([[1, 'load']]);
    watchdog.done('order.placed', 0);
    vi.advanceTimersByTime(300_000);
    expect(stuck).toHaveLength(1);
    watchdog.stop();
  });

  it('logs a round that stays at a Kafka step once a minute, without calling it stuck', () => {
    const { log, error } = quietLog();
    const onStuck = vi.fn();
    const watchdog = watchRounds({ log, stuckAfterMs: 120_000, onStuck });
    watchdog.at('order.placed', 4, 'commit');
    vi.advanceTimersByTime(59_000);
    expect(error).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200_000);
    expect(onStuck).not.toHaveBeenCalled();
    expect(error.mock.calls.map((c) => c[1])).toEqual([
      'a order.placed round has been at commit for 60 s',
      'a order.placed round has been at commit for 120 s',
      'a order.placed round has been at commit for 180 s',
      'a order.placed round has been at commit for 240 s',
    ]);
    watchdog.stop();
  });
});
