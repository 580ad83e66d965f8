import { describe, expect, it } from 'vitest';
import { microBatch } from './micro-batch';

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
