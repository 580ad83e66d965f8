import type { ClaimDocument } from '../mongo/models/claim.model';

/** A claim as stored, for the decision specs: held by `claimedBy` since `claimedAt`. */
export function claimFixture(fields: Pick<ClaimDocument, 'effect' | 'subjectId' | 'claimedBy' | 'claimedAt'> & Partial<ClaimDocument>): ClaimDocument {
  return {
    _id: `${fields.effect}:${fields.subjectId}`,
    intent: fields.effect === 'email' ? 'send' : 'charge',
    claimToken: 'token-a',
    attempts: 1,
    failedReason: null,
    ...fields,
  };
}
