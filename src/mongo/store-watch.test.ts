import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger';
import { followConnection, watchStoreClient } from './store-watch';

describe('watchStoreClient', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  const log = createLogger('test', { level: 'silent' });

  it('calls the client wedged once the store answers others but not this process for the limit', async () => {
    const onWedged = vi.fn();
    const storeAnswers = vi.fn(async () => true);
    const watch = watchStoreClient({ log, stuckAfterMs: 60_000, storeAnswers, onWedged });
    watch.unreachable();
    await vi.advanceTimersByTimeAsync(50_000);
    watch.unreachable(); // still failing: the clock runs from the first failure
    await vi.advanceTimersByTimeAsync(10_000);
    expect(storeAnswers).toHaveBeenCalledTimes(1);
    expect(onWedged).toHaveBeenCalledWith(60_000);
    await vi.advanceTimersByTimeAsync(300_000);
    expect(onWedged).toHaveBeenCalledTimes(1);
    watch.stop();
  });

  it('goes on waiting while the store does not answer a connection of its own either, and asks again a limit later', async () => {
    const onWedged = vi.fn();
    let answers = false;
    const storeAnswers = vi.fn(async () => answers);
    const watch = watchStoreClient({ log, stuckAfterMs: 60_000, storeAnswers, onWedged });
    watch.unreachable();
    await vi.advanceTimersByTimeAsync(100_000);
    expect(storeAnswers).toHaveBeenCalledTimes(1);
    expect(onWedged).not.toHaveBeenCalled();
    answers = true;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(storeAnswers).toHaveBeenCalledTimes(2);
    expect(onWedged).toHaveBeenCalledWith(120_000);
    watch.stop();
  });

  it('forgets a failure once an attempt reaches the store, and never asks while attempts succeed', async () => {
    const onWedged = vi.fn();
    const storeAnswers = vi.fn(async () => true);
    const watch = watchStoreClient({ log, stuckAfterMs: 60_000, storeAnswers, onWedged });
    watch.unreachable();
    await vi.advanceTimersByTimeAsync(50_000);
    watch.reached();
    await vi.advanceTimersByTimeAsync(50_000);
    watch.unreachable(); // a new outage: its own clock
    await vi.advanceTimersByTimeAsync(50_000);
    expect(storeAnswers).not.toHaveBeenCalled();
    watch.reached();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(storeAnswers).not.toHaveBeenCalled();
    expect(onWedged).not.toHaveBeenCalled();
    watch.stop();
  });
});

describe('followConnection', () => {
  it('counts the store unreachable from the connection saying disconnected until it says reconnected or connected', () => {
    const connection = new EventEmitter();
    const calls: string[] = [];
    followConnection(connection, { unreachable: () => calls.push('unreachable'), reached: () => calls.push('reached') });
    for (const event of ['disconnected', 'reconnected', 'disconnected', 'connected', 'close']) connection.emit(event);
    expect(calls).toEqual(['unreachable', 'reached', 'unreachable', 'reached']);
  });
});
