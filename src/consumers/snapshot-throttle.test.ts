import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createThrottle } from './snapshot-throttle';

describe('createThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const recorder = () => {
    const sent: [string, number, number][] = [];
    const throttle = createThrottle<number>(250, async (key, value) => void sent.push([key, value, Date.now()]));
    return { sent, throttle };
  };

  it('sends the first value at once and the latest of a burst at the end of the interval', async () => {
    const { sent, throttle } = recorder();
    const start = Date.now();
    for (let i = 1; i <= 10; i++) {
      throttle.offer('global', i);
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(300);
    expect(sent.map(([, v]) => v)).toEqual([1, 10]);
    expect(sent[1]![2] - start).toBe(250);
  });

  it('keeps to at most one send per interval under a steady stream, per key', async () => {
    const { sent, throttle } = recorder();
    for (let i = 0; i < 100; i++) {
      throttle.offer('global', i);
      throttle.offer('restaurant:r1', i);
      await vi.advanceTimersByTimeAsync(10); // 100 offers a second
    }
    await vi.advanceTimersByTimeAsync(300);
    const global = sent.filter(([k]) => k === 'global');
    expect(global.length).toBeLessThanOrEqual(6); // 1 s of offers: at most 4 a second, plus the edges
    expect(global.at(-1)![1]).toBe(99);
    expect(sent.filter(([k]) => k === 'restaurant:r1').at(-1)![1]).toBe(99);
  });

  it('flushes what is waiting', async () => {
    const { sent, throttle } = recorder();
    throttle.offer('global', 1);
    throttle.offer('global', 2);
    await throttle.flush();
    expect(sent.map(([, v]) => v)).toEqual([1, 2]);
  });

  it('carries on after a failed send', async () => {
    const values: number[] = [];
    const throttle = createThrottle<number>(250, async (_key, value) => {
      if (value === 1) throw new Error('broker away');
      values.push(value);
    });
    throttle.offer('global', 1);
    await vi.advanceTimersByTimeAsync(260);
    throttle.offer('global', 2);
    await throttle.flush();
    expect(values).toEqual([2]);
  });
});
