import { AppError } from '../errors';

/**
 * The payment provider as the transactions consumer sees it. Like real providers, it is
 * idempotent per `idempotencyKey`: asking again with the same key returns the first answer and
 * moves no money, which is what makes a retried or taken-over charge safe.
 */
export interface PaymentGateway {
  /** Captures the amount, or declines it: a decline is an answer, not an error. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Gives back a captured charge in full. */
  refund(request: RefundRequest): Promise<RefundResult>;
  /**
   * Closes a key to charges (a cancelled order whose charger went silent): the charge already
   * made under it, or `voided` when none was, after which a charge under that key is declined.
   */
  closeCharge(idempotencyKey: string): Promise<(ChargeResult & { readonly amountCents: number }) | { readonly status: 'voided' }>;
}

export interface ChargeRequest {
  /** One charge per key: the order id. */
  readonly idempotencyKey: string;
  readonly paymentToken: string;
  readonly amountCents: number;
  readonly currency: string;
}

export type ChargeResult =
  | { readonly status: 'captured'; readonly reference: string }
  | { readonly status: 'declined'; readonly reference: string; readonly reason: string };

export interface RefundRequest {
  /** One refund per key: the order id. */
  readonly idempotencyKey: string;
  readonly chargeReference: string;
  readonly amountCents: number;
}

export interface RefundResult {
  readonly reference: string;
}

/** The provider refused a request that will never succeed as asked (e.g. refunding an unknown charge). */
export class PaymentRejectedError extends AppError {
  constructor(message: string) {
    super('PAYMENT_REJECTED', message, { retriable: false });
  }
}
