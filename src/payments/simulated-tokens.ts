/** The simulated payment gateway's test tokens and what each does (see the contract's PlaceOrderInput): a simulator's rules, not the product's. */
export type PaymentOutcome =
  | { readonly kind: 'captured'; readonly delayMs: number }
  | { readonly kind: 'declined'; readonly reason: string; readonly delayMs: number };

const TOKENS: Readonly<Record<string, PaymentOutcome>> = {
  tok_visa: { kind: 'captured', delayMs: 0 },
  tok_mastercard: { kind: 'captured', delayMs: 0 },
  tok_declined: { kind: 'declined', reason: 'card declined', delayMs: 0 },
  tok_slow: { kind: 'captured', delayMs: 2000 },
};

export const KNOWN_PAYMENT_TOKENS = Object.keys(TOKENS);

export function paymentOutcome(token: string): PaymentOutcome {
  return TOKENS[token] ?? { kind: 'declined', reason: 'unknown payment token', delayMs: 0 };
}
