import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

/** A logger whose lines are kept as text. */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('spec', { destination }), text: () => lines.join('') };
}

describe('createLogger redaction', () => {
  it('writes a log line of an order with neither its email address nor its payment token', () => {
    const { log, text } = capturedLogger();
    const event = {
      type: 'order.placed',
      data: { orderId: 'o-1', customerId: 'c-1', customerEmail: 'grace@example.com', paymentToken: 'tok_visa_4242', totalCents: 1800 },
    };
    log.info({ event }, 'handled order.placed');
    log.warn({ order: { id: 'o-1', customerEmail: 'grace@example.com' }, input: { paymentToken: 'tok_visa_4242' } }, 'refused');
    log.info({ email: { recipient: 'grace@example.com' }, headers: { authorization: 'Bearer abc.def.ghi' } }, 'mail');
    const written = text();
    expect(written).toContain('o-1');
    expect(written).not.toContain('grace@example.com');
    expect(written).not.toContain('tok_visa_4242');
    expect(written).not.toContain('abc.def.ghi');
    expect(written).toContain('[redacted]');
  });
});
