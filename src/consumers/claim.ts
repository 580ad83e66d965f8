/**
 * Claims: how a consumer makes sure only one instance performs an outside effect (a charge,
 * an email) for an order, without transactions.
 *
 * The effect's document is inserted first as `pending` (unique per order), naming the claimant
 * instance and the time. Only the instance whose insert won performs the effect, then settles
 * the document with an update conditional on its own claim token. Whoever finds a claim that
 * is not theirs waits (a retriable failure) until it is settled, unless the claim has outlived
 * its lease: then the claimant is presumed dead (crashed between claim and settle) and the
 * claim is taken over, so a crash never strands an order.
 */

export interface Claim {
  readonly claimToken: string;
  readonly claimedBy: string;
  readonly claimedAt: Date;
}

export type ClaimVerdict =
  /** Ours from an earlier attempt in this instance (a retry): carry on under it. */
  | { readonly kind: 'own' }
  /** Another instance is at work within its lease: wait for it to settle. */
  | { readonly kind: 'held'; readonly expiresAt: Date }
  /** Its holder is presumed gone: take it over (conditional on its token). */
  | { readonly kind: 'expired' };

/** Pure: what an instance may do about a pending claim it found. */
export function judgeClaim(claim: Claim, instanceId: string, now: Date, leaseMs: number): ClaimVerdict {
  if (claim.claimedBy === instanceId) return { kind: 'own' };
  const expiresAt = new Date(claim.claimedAt.getTime() + leaseMs);
  return now >= expiresAt ? { kind: 'expired' } : { kind: 'held', expiresAt };
}
