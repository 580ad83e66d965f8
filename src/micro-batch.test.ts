import { describe, expect, it } from 'vitest';
import { microBatch, whileBusy } from './micro-batch';

describe('microBatch', () => {
  it('serves calls made in the same turn with one flush, each with its own result', async () => {
    const flushes: number[][] = [];
    const double = microBatch(async (xs: number[]) => {
      flushes.push(xs);
      return xs.map((x) => x * 2);
    });
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('flushes a full batch at once and starts the next', async () => {
    const flushes: number[][] = [];
    const echo = microBatch(async (xs: number[]) => (flushes.push(xs), xs), { maxBatch: 2 });
    await Promise.all([echo(1), echo(2), echo(3)]);
    expect(flushes).toEqual([[1, 2], [3]]);
  });

  it('waits out its window for company', async () => {
    const flushes: number[][] = [];
    const echo = microBatch(async (xs: number[]) => (flushes.push(xs), xs), { windowMs: 20 });
    const first = echo(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all([first, echo(2)]);
    expect(flushes).toEqual([[1, 2]]);
  });

  it('rejects every call of a batch whose flush failed, and serves the next batch', async () => {
    let fail = true;
    const echo = microBatch(async (xs: number[]) => {
      if (fail) throw new Error('store down');
      return xs;
    });
    const results = await Promise.allSettled([echo(1), echo(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await echo(3)).toBe(3);
  });
});

describe('whileBusy', () => {
  it('sends the first call at once and groups the calls made while it runs', async () => {
    const flushes: number[][] = [];
    const send = whileBusy(async (xs: number[]) => {
      flushes.push(xs);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return xs.map((x) => x + 100);
    });
    const first = send(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first flush is running
    const rest = [send(2), send(3), send(4)];
    expect(await Promise.all([first, ...rest])).toEqual([101, 102, 103, 104]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('rejects only the calls of a failed flush', async () => {
    let fail = true;
    const send = whileBusy(async (xs: number[]) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) {
        fail = false;
        throw new Error('broker gone');
      }
      return xs;
    });
    const first = send(1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = send(2);
    await expect(first).rejects.toThrow('broker gone');
    expect(await second).toBe(2);
  });
});
