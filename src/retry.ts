import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from './errors';

export interface RetryOptions {
  /** Attempts after the first. @default 5 */
  readonly retries?: number;
  /** Delay before the first retry. @default 100 */
  readonly initialDelayMs?: number;
  /** Upper bound of one delay. @default 5000 */
  readonly maxDelayMs?: number;
  /** Growth of the delay per attempt. @default 2 */
  readonly factor?: number;
  /** Give up once this much time has passed, whatever `retries` says. */
  readonly deadlineMs?: number;
  /** Which failures are worth another attempt. @default isRetriable */
  readonly shouldRetry?: (error: unknown) => boolean;
  /** Told before each wait: for progress logs. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
  /** Source of randomness for jitter; tests pass a fixed one. @default Math.random */
  readonly random?: () => number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential growth capped at `maxDelayMs`,
 * with "full jitter" between half and all of it so that many clients do not retry in step.
 */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const { initialDelayMs = 100, maxDelayMs = 5000, factor = 2, random = Math.random } = options;
  const ceiling = Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Runs `operation` until it succeeds, the failure is not retriable, or attempts run out. */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 5, deadlineMs, shouldRetry = isRetriable, onRetry, signal } = options;
  const startedAt = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const delay = backoffDelay(attempt + 1, options);
      const outOfTime = deadlineMs !== undefined && Date.now() - startedAt + delay > deadlineMs;
      if (attempt >= retries || outOfTime || !shouldRetry(error) || signal?.aborted) throw error;
      onRetry?.(error, attempt + 1, delay);
      await sleep(delay, undefined, { signal });
    }
  }
}

/**
 * `operation`'s result, or the error `timedOut` makes once `ms` have passed. The operation is
 * not cancelled (it may still complete); only the wait for it ends.
 */
export async function withTimeout<T>(operation: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  try {
    return await Promise.race([operation, late]);
  } finally {
    clearTimeout(timer);
  }
}
