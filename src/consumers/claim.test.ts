import { describe, expect, it } from 'vitest';
import { judgeClaim } from './claim';

describe('judgeClaim', () => {
  const claimedAt = new Date('2030-01-01T12:00:00.000Z');
  const claim = { claimToken: 't', claimedBy: 'transactions-a', claimedAt };
  const after = (ms: number) => new Date(claimedAt.getTime() + ms);

  it('lets an instance carry on under its own claim', () => {
    expect(judgeClaim(claim, 'transactions-a', after(1), 30_000)).toEqual({ kind: 'own' });
  });

  it('makes others wait while the lease runs, and take over once it is over', () => {
    expect(judgeClaim(claim, 'transactions-b', after(29_999), 30_000)).toEqual({ kind: 'held', expiresAt: after(30_000) });
    expect(judgeClaim(claim, 'transactions-b', after(30_000), 30_000)).toEqual({ kind: 'expired' });
  });
});
