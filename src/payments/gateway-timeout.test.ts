import { describe, expect, it } from 'vitest';
import { isRetriable } from '../errors';
import { GatewayTimeoutError, PAYMENT_GATEWAY_TIMEOUT_MS, withGatewayTimeout } from './gateway-timeout';
import type { PaymentGateway } from './payment-gateway';

const never = () => new Promise<never>(() => undefined);
const silent: PaymentGateway = { charge: never, refund: never, closeCharge: never };

describe('withGatewayTimeout', () => {
  it('fails a call the provider never answers with a retriable timeout', async () => {
    const gateway = withGatewayTimeout(silent, 30);
    const charging = gateway.charge({ idempotencyKey: 'o-1', paymentToken: 'tok_visa', amountCents: 100, currency: 'EUR' });
    await expect(charging).rejects.toBeInstanceOf(GatewayTimeoutError);
    const error = await gateway.closeCharge('o-1').catch((e: unknown) => e);
    expect(isRetriable(error)).toBe(true);
    expect((error as Error).message).toMatch(/closeCharge within 30 ms/);
  });

  it('passes answers through', async () => {
    const answering: PaymentGateway = { ...silent, refund: async () => ({ reference: 're_1' }) };
    await expect(withGatewayTimeout(answering, 1_000).refund({ idempotencyKey: 'o-1', chargeReference: 'ch_1', amountCents: 100 })).resolves.toEqual({ reference: 're_1' });
  });

  it('is bounded well below the shortest consumer session timeout config accepts (25 s)', () => {
    expect(PAYMENT_GATEWAY_TIMEOUT_MS).toBeLessThan(25_000);
  });
});
