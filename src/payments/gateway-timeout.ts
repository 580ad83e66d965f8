import { AppError } from '../errors';
import { withTimeout } from '../retry';
import type { PaymentGateway } from './payment-gateway';

/**
 * Longest one gateway call may take (tok_slow takes 2 s): well below the consumer session
 * timeout (CONSUMER_SESSION_TIMEOUT_MS, at least 25 s), so a provider that stops answering
 * fails the attempt instead of costing the consumer its group membership, and below the
 * transactions consumer's charge claim lease (30 s), so a retry finds its own live claim.
 */
export const PAYMENT_GATEWAY_TIMEOUT_MS = 10_000;

/** The provider did not answer in time. Retriable: every call is idempotent by key, so asking again is safe. */
export class GatewayTimeoutError extends AppError {
  constructor(call: string, ms: number) {
    super('UNAVAILABLE', `the payment gateway did not answer ${call} within ${ms} ms`, { retriable: true });
  }
}

/** The same gateway, every call bounded by `ms` (the call itself is not cancelled; its answer is ignored). */
export function withGatewayTimeout(gateway: PaymentGateway, ms = PAYMENT_GATEWAY_TIMEOUT_MS): PaymentGateway {
  const bounded =
    <A extends unknown[], R>(call: string, run: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      withTimeout(run(...args), ms, () => new GatewayTimeoutError(call, ms));
  return {
    charge: bounded('charge', (request) => gateway.charge(request)),
    refund: bounded('refund', (request) => gateway.refund(request)),
    closeCharge: bounded('closeCharge', (key) => gateway.closeCharge(key)),
  };
}
