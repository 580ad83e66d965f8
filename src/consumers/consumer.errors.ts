import { AppError } from '../errors';
import { StaleDecisionError } from '../kafka/consumer-module';

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
 * Another instance won the claim on this effect (its insert came first, or it took the claim
 * over before us): this instance must not perform it. Deciding again finds that claim.
 */
export class ClaimLostError extends StaleDecisionError {
  constructor(what: string) {
    super(`${what} (claimed by another instance first)`);
  }
}
