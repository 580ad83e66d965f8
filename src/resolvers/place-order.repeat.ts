/**
 * What placeOrder does when its idempotency key is already claimed: a pure verdict on what
 * it found, so the at-most-once rules of the API read in one place and are specified.
 */

/** What a repeat needs to know of the claim it found. */
export interface KeyClaim {
  readonly requestHash: string;
  readonly state: 'pending' | 'published';
  readonly claimedAt: Date;
}

export type RepeatVerdict =
  /** The claim is gone (its first request failed before Kafka acknowledged and freed it): claim the key again. */
  | { readonly kind: 'claim-again' }
  /** The key was used for a different request. */
  | { readonly kind: 'conflict' }
  /** The first request's order was acknowledged: answer with it. */
  | { readonly kind: 'answer' }
  /** Pending for longer than a request lives: its request died before Kafka answered; produce the same event again. */
  | { readonly kind: 'take-over' }
  /** Pending and fresh: another request with this key is producing right now; wait for its outcome. */
  | { readonly kind: 'wait' };

/** PURE: the verdict on a repeated idempotency key. `retried`: this request already tried to claim the key again once. */
export function judgeRepeat(claim: KeyClaim | null, requestHash: string, now: Date, staleAfterMs: number, retried: boolean): RepeatVerdict {
  if (!claim) return retried ? { kind: 'wait' } : { kind: 'claim-again' };
  if (claim.requestHash !== requestHash) return { kind: 'conflict' };
  if (claim.state === 'published') return { kind: 'answer' };
  return now.getTime() - claim.claimedAt.getTime() > staleAfterMs ? { kind: 'take-over' } : { kind: 'wait' };
}
