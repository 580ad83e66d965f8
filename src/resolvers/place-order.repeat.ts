/**
 * What placeOrder does when its idempotency key is already claimed: a pure verdict on what
 * it found, so the at-most-once rules of the API read in one place and are specified.
 *
 * A repeat of the same request answers with the first order and produces its order.placed
 * again, under the same order id and event id. That one rule covers every state the first
 * request may be in: acknowledged (the copy is a duplicate every consumer recognises by the
 * order id), still producing (both sends carry the same event), or dead between its claim and
 * Kafka's answer (the copy is what places the order, now acknowledged to this caller). So the
 * claim needs no second write to say "published", no lease and no take-over: unlike the
 * consumers' claims (src/consumers/claim.ts), whose effects (a charge, an email) cannot be
 * repeated safely, producing one event twice under its id is harmless.
 */

/** What a repeat needs to know of the claim it found. */
export interface KeyClaim {
  readonly requestHash: string;
}

export type RepeatVerdict<C extends KeyClaim> =
  /** The claim is gone (removed by hand since): claim the key again. */
  | { readonly kind: 'claim-again' }
  /** Gone again after claiming it again: something removes claims as they are made; the client retries later. */
  | { readonly kind: 'wait' }
  /** The key was used for a different request. */
  | { readonly kind: 'conflict' }
  /** The same request: produce the first order's event again and answer with that order. */
  | { readonly kind: 'answer'; readonly first: C };

/**
 * PURE: the verdict on a repeated idempotency key, given the claim found under it (null: none).
 * `claimedAgain`: this request already claimed the key a second time, so it never claims a third.
 */
export function judgeRepeat<C extends KeyClaim>(claim: C | null, requestHash: string, claimedAgain: boolean): RepeatVerdict<C> {
  if (!claim) return claimedAgain ? { kind: 'wait' } : { kind: 'claim-again' };
  return claim.requestHash === requestHash ? { kind: 'answer', first: claim } : { kind: 'conflict' };
}
