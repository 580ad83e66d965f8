import type { ClaimDocument } from '../mongo/models/claim.model';

/** A claim as stored, for the decision specs: held by `claimedBy` since `claimedAt`. */
export function claimFixture(fields: Pick<ClaimDocument, 'effect' | 'orderId' | 'claimedBy' | 'claimedAt'> & Partial<ClaimDocument>): ClaimDocument {
  return {
    _id: `${fields.effect}:${fields.orderId}`,
    intent: fields.effect === 'email' ? 'send' : 'charge',
    claimToken: 'token-a',
    attempts: 1,
    failedReason: null,
    ...fields,
  };
}
