import { describe, expect, it } from 'vitest';
import { AppError } from './errors';
import { backoffDelay, withRetry } from './retry';

const transient = () => new AppError('UNAVAILABLE', 'try again', { retriable: true });
const permanent = () => new AppError('PAYMENT_REJECTED', 'do not try again');

describe('backoffDelay', () => {
  it('doubles the ceiling with each attempt', () => {
    const top = { initialDelayMs: 100, random: () => 1 };
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, top))).toEqual([100, 200, 400, 800]);
  });

  it('grows by the given factor', () => {
    const top = { initialDelayMs: 10, factor: 3, random: () => 1 };
    expect([1, 2, 3].map((attempt) => backoffDelay(attempt, top))).toEqual([10, 30, 90]);
  });

  it('never exceeds maxDelayMs', () => {
    const top = { initialDelayMs: 100, maxDelayMs: 250, random: () => 1 };
    expect([3, 4, 10, 50].map((attempt) => backoffDelay(attempt, top))).toEqual([250, 250, 250, 250]);
  });

  it('is half the ceiling when random() gives 0', () => {
    expect(backoffDelay(3, { initialDelayMs: 100, random: () => 0 })).toBe(200);
  });

  it('is three quarters of the ceiling when random() gives 0.5', () => {
    expect(backoffDelay(2, { initialDelayMs: 100, random: () => 0.5 })).toBe(150);
  });

  it('stays between half and all of the ceiling with real randomness', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(4, { initialDelayMs: 100 });
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });
});

describe('withRetry', () => {
  const fast = { initialDelayMs: 1, maxDelayMs: 2 };

  it('returns the value of an operation that succeeds at once, calling it once', async () => {
    let calls = 0;
    const result = await withRetry(async () => {
      calls++;
      return 'done';
    }, fast);
    expect(result).toBe('done');
    expect(calls).toBe(1);
  });

  it('retries retriable failures and returns the first success', async () => {
    const attempts: number[] = [];
    const result = await withRetry(async (attempt) => {
      attempts.push(attempt);
      if (attempt < 2) throw transient();
      return attempt;
    }, fast);
    expect(result).toBe(2);
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('does not retry an AppError that is not retriable', async () => {
    let calls = 0;
    const error = permanent();
    await expect(
      withRetry(async () => {
        calls++;
        throw error;
      }, fast),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('does not retry a plain Error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new Error('boom');
      }, fast),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });

  it('gives up after `retries` retries and rethrows the last failure', async () => {
    let calls = 0;
    const errors: AppError[] = [];
    const outcome = withRetry(
      async () => {
        calls++;
        const error = transient();
        errors.push(error);
        throw error;
      },
      { ...fast, retries: 3 },
    );
    await expect(outcome).rejects.toBeInstanceOf(AppError);
    expect(calls).toBe(4);
    await outcome.catch((error: unknown) => expect(error).toBe(errors[3]));
  });

  it('tells onRetry each failure with 1-based attempt numbers and the delay it will wait', async () => {
    const told: Array<{ error: unknown; attempt: number; delayMs: number }> = [];
    const failures = [transient(), transient()];
    await withRetry(
      async (attempt) => {
        const failure = failures[attempt];
        if (failure) throw failure;
        return 'ok';
      },
      { initialDelayMs: 4, random: () => 1, onRetry: (error, attempt, delayMs) => told.push({ error, attempt, delayMs }) },
    );
    expect(told).toEqual([
      { error: failures[0], attempt: 1, delayMs: 4 },
      { error: failures[1], attempt: 2, delayMs: 8 },
    ]);
  });

  it('stops retrying before deadlineMs would be passed', async () => {
    let calls = 0;
    const startedAt = Date.now();
    await expect(
      withRetry(
        async () => {
          calls++;
          throw transient();
        },
        { retries: 1000, initialDelayMs: 20, factor: 1, random: () => 1, deadlineMs: 150 },
      ),
    ).rejects.toBeInstanceOf(AppError);
    const elapsed = Date.now() - startedAt;
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(20);
    expect(elapsed).toBeLessThan(150 + 100);
  });

  it('uses shouldRetry instead of the retriable flag when given', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('flaky');
        },
        { ...fast, retries: 2, shouldRetry: (error) => error instanceof Error && error.message === 'flaky' },
      ),
    ).rejects.toThrow('flaky');
    expect(calls).toBe(3);
  });
});
