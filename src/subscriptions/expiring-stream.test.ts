import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { endsAt } from './expiring-stream';

function sourceOf(values: ExecutionResult[]): AsyncIterableIterator<ExecutionResult> & { closed: boolean } {
  const it = {
    closed: false,
    async next() {
      const value = values.shift();
      return value ? { value, done: false as const } : { value: undefined, done: true as const };
    },
    async return() {
      it.closed = true;
      return { value: undefined, done: true as const };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

describe('endsAt', () => {
  it('passes results through before the deadline', async () => {
    const stream = endsAt(sourceOf([{ data: { a: 1 } }]), 1000, () => new Error('expired'), () => 999);
    expect(await stream.next()).toEqual({ value: { data: { a: 1 } }, done: false });
  });

  it('replaces the first result at or after the deadline with the error, closes the source and ends', async () => {
    let clock = 500;
    const source = sourceOf([{ data: { a: 1 } }, { data: { a: 2 } }, { data: { a: 3 } }]);
    const stream = endsAt(source, 1000, () => new Error('the token expired'), () => clock);
    expect((await stream.next()).value).toEqual({ data: { a: 1 } });
    clock = 1000;
    const last = await stream.next();
    expect(last.value?.data).toBeUndefined();
    expect(last.value?.errors?.[0]?.message).toBe('the token expired');
    expect(last.value?.errors?.[0]?.originalError?.message).toBe('the token expired');
    expect(source.closed).toBe(true);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
