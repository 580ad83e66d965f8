/**
 * Claims: how a consumer makes sure only one instance performs an outside effect (a charge,
 * an email) for an order, without transactions; and how an operator's redrive sends a dead
 * letter back once (src/ops/dead-letter-ops.ts, the letter as subject, the run as claimant).
 * Claim → effect → settle:
 *
 * 1. **Claim.** A claim document (unique per effect and subject) is inserted, naming the
 *    claimant instance, a fresh token and the time. Only the instance whose insert won
 *    performs the effect. Whoever finds a claim that is not theirs waits (a retriable failure)
 *    until the effect is settled, unless the claim has outlived its lease: then the claimant is
 *    presumed dead (crashed between claim and settle) and the claim is taken over by an update
 *    conditional on the token it replaces, so a crash never strands an effect and two
 *    instances never both take over one claim.
 * 2. **Effect.** Performed by the claimant only, idempotent at its far end where it can be
 *    (the payment gateway keys charges by order id).
 * 3. **Settle.** The result is recorded by insert, unique per subject: the first settlement
 *    wins, and a later one (after a take-over) reads back the first.
 *
 * Every step works on a whole round of subjects at once (one insert for all new claims, one
 * for all settlements), and a lost race is a typed error (ClaimLostError).
 */
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { findByIds, insertEach } from '../mongo/bulk';
import { claimId, type ClaimDocument, type ClaimModel } from '../mongo/models/claim.model';
import { ClaimLostError } from './consumer.errors';

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

/** Pure: what an instance may do about an unsettled claim it found. */
export function judgeClaim(claim: Claim, instanceId: string, now: Date, leaseMs: number): ClaimVerdict {
  if (claim.claimedBy === instanceId) return { kind: 'own' };
  const expiresAt = new Date(claim.claimedAt.getTime() + leaseMs);
  return now >= expiresAt ? { kind: 'expired' } : { kind: 'held', expiresAt };
}

export interface ClaimRequest {
  /** `payment`, `email`, `redrive`: one claim per effect and subject. */
  readonly effect: string;
  /** What the effect is on: an order's id, a dead letter's id. */
  readonly subjectId: string;
  /** What the claimant will do (`charge`, `void`, `send`). */
  readonly intent: string;
  /** null for a new claim; otherwise the token of the claim to take over. */
  readonly takeOverToken: string | null;
}

/**
 * Claims every request's effect at once: new claims in one unordered insert (a taken key means
 * another instance won), take-overs each conditional on the token they replace. Per request,
 * the claim this instance now holds, or a ClaimLostError.
 */
export async function claimEffects(
  claims: ClaimModel,
  requests: readonly ClaimRequest[],
  instanceId: string,
  now = new Date(),
): Promise<(ClaimDocument | ClaimLostError)[]> {
  const docs = requests.map(
    (r): ClaimDocument => ({
      _id: claimId(r.effect, r.subjectId),
      effect: r.effect,
      subjectId: r.subjectId,
      intent: r.intent,
      claimToken: randomUUID(),
      claimedBy: instanceId,
      claimedAt: now,
      attempts: 1,
      failedReason: null,
    }),
  );
  const lost = (r: ClaimRequest) => new ClaimLostError(`the ${r.effect} of ${r.subjectId}`);
  const fresh = requests.flatMap((r, i) => (r.takeOverToken === null ? [i] : []));
  const inserted = await insertEach(
    claims.collection,
    fresh.map((i) => docs[i]!),
  );
  const results: (ClaimDocument | ClaimLostError)[] = docs.map((d) => d);
  fresh.forEach((i, n) => {
    if (!inserted[n]) results[i] = lost(requests[i]!);
  });
  await Promise.all(
    requests.map(async (r, i) => {
      if (r.takeOverToken === null) return;
      const { claimToken, claimedBy, claimedAt, intent } = docs[i]!;
      const taken = await claims
        .findOneAndUpdate(
          { _id: docs[i]!._id, claimToken: r.takeOverToken },
          { $set: { claimToken, claimedBy, claimedAt, intent, failedReason: null }, $inc: { attempts: 1 } },
          { returnDocument: 'after' },
        )
        .lean<ClaimDocument>();
      results[i] = taken ?? lost(r);
    }),
  );
  return results;
}

/**
 * Records settlements (one per subject, by `_id`) with one unordered insert. Per document, what is
 * stored: this one, or the settlement another instance recorded first (read back), which
 * describes the same idempotent effect.
 */
export async function settleEffects<T extends { _id: string }>(model: Model<T>, settlements: readonly T[]): Promise<T[]> {
  if (settlements.length === 0) return [];
  const inserted = await insertEach(model.collection, settlements);
  const taken = settlements.filter((_, i) => !inserted[i]).map((s) => s._id);
  const earlier = taken.length > 0 ? await findByIds(model, taken) : new Map<string, T>();
  return settlements.map((s, i) => (inserted[i] ? s : (earlier.get(s._id) ?? s)));
}
