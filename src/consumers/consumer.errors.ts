import { AppError } from '../errors';

/**
 * Another instance holds the claim on this effect (a charge, an email) and its lease runs:
 * retrying later finds it settled (or expired). Retriable by design.
 */
export class EffectInProgressError extends AppError {
  constructor(what: string, holder: string, until: Date) {
    super('IN_PROGRESS', `${what} is in progress at ${holder} (claim held until ${until.toISOString()})`, { retriable: true });
  }
}

/**
 * A conditional write found the document changed since it was read (another instance, or a
 * concurrent event of the same order): read again and decide again. Retriable by design.
 */
export class ConcurrentUpdateError extends AppError {
  constructor(what: string) {
    super('CONFLICT', `${what} changed while being updated; deciding again`, { retriable: true });
  }
}

/**
 * Another instance won the claim on this effect (its insert came first, or it took the claim
 * over before us): this instance must not perform it. Deciding again finds that claim.
 */
export class ClaimLostError extends AppError {
  constructor(what: string) {
    super('CONFLICT', `${what} was claimed by another instance first; deciding again`, { retriable: true });
  }
}
