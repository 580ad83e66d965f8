import { describe, expect, it } from 'vitest';
import { judgeRepeat, type KeyClaim } from './place-order.repeat';

const now = new Date('2030-01-01T12:00:00.000Z');
const STALE = 30_000;
const claim = (overrides: Partial<KeyClaim> = {}): KeyClaim => ({ requestHash: 'h1', state: 'published', claimedAt: new Date(now.getTime() - 1000), ...overrides });

describe('judgeRepeat', () => {
  it('answers a repeat of an acknowledged order with that order', () => {
    expect(judgeRepeat(claim(), 'h1', now, STALE, false)).toEqual({ kind: 'answer' });
  });

  it('refuses the key for a different request, whatever state its claim is in', () => {
    expect(judgeRepeat(claim(), 'h2', now, STALE, false)).toEqual({ kind: 'conflict' });
    expect(judgeRepeat(claim({ state: 'pending' }), 'h2', now, STALE, false)).toEqual({ kind: 'conflict' });
  });

  it('waits for a request that is producing right now, and takes over one that died', () => {
    expect(judgeRepeat(claim({ state: 'pending' }), 'h1', now, STALE, false)).toEqual({ kind: 'wait' });
    const dead = claim({ state: 'pending', claimedAt: new Date(now.getTime() - STALE - 1) });
    expect(judgeRepeat(dead, 'h1', now, STALE, false)).toEqual({ kind: 'take-over' });
  });

  it('claims a freed key again, but only once per request (then it waits like any repeat)', () => {
    expect(judgeRepeat(null, 'h1', now, STALE, false)).toEqual({ kind: 'claim-again' });
    expect(judgeRepeat(null, 'h1', now, STALE, true)).toEqual({ kind: 'wait' });
  });
});
