import { describe, expect, it } from 'vitest';
import { KNOWN_PAYMENT_TOKENS, paymentOutcome } from './simulated-tokens';

describe('paymentOutcome', () => {
  it('captures tok_visa and tok_mastercard at once', () => {
    expect(paymentOutcome('tok_visa')).toEqual({ kind: 'captured', delayMs: 0 });
    expect(paymentOutcome('tok_mastercard')).toEqual({ kind: 'captured', delayMs: 0 });
  });

  it('captures tok_slow after about two seconds', () => {
    expect(paymentOutcome('tok_slow')).toEqual({ kind: 'captured', delayMs: 2000 });
  });

  it('declines tok_declined and any unknown token, with a reason', () => {
    expect(paymentOutcome('tok_declined')).toEqual({ kind: 'declined', reason: 'card declined', delayMs: 0 });
    expect(paymentOutcome('tok_nonsense')).toMatchObject({ kind: 'declined', reason: 'unknown payment token' });
    expect(KNOWN_PAYMENT_TOKENS.sort()).toEqual(['tok_declined', 'tok_mastercard', 'tok_slow', 'tok_visa']);
  });
});
