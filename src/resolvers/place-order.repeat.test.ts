import { describe, expect, it } from 'vitest';
import { judgeRepeat } from './place-order.repeat';

describe('judgeRepeat', () => {
  it('answers a repeat of the same request with the first order (whatever became of its first send)', () => {
    const first = { requestHash: 'h1', orderId: 'o-1' };
    expect(judgeRepeat(first, 'h1', false)).toEqual({ kind: 'answer', first });
    expect(judgeRepeat(first, 'h1', true)).toEqual({ kind: 'answer', first });
  });

  it('refuses the key for a different request', () => {
    expect(judgeRepeat({ requestHash: 'h1' }, 'h2', false)).toEqual({ kind: 'conflict' });
  });

  it('claims a freed key again, but only once per request: then the client waits and retries', () => {
    expect(judgeRepeat(null, 'h1', false)).toEqual({ kind: 'claim-again' });
    expect(judgeRepeat(null, 'h1', true)).toEqual({ kind: 'wait' });
  });
});
