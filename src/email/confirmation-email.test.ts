import { describe, expect, it } from 'vitest';
import { composeConfirmationEmail, confirmationMessageId } from './confirmation-email';

const order = {
  orderId: 'ord-42',
  customerId: 'cust-1',
  customerEmail: 'ada@example.com',
  restaurantId: 'trattoria',
  items: [
    { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 850, lineTotalCents: 1700 },
    { menuItemId: 'special', name: 'Chef\'s <special> & co', quantity: 1, unitPriceCents: 1250, lineTotalCents: 1250 },
  ],
  totalCents: 2950,
  currency: 'EUR',
  transactionId: 'tx-9',
  confirmedAt: '2030-01-01T12:00:00.000Z',
};

describe('composeConfirmationEmail', () => {
  const email = composeConfirmationEmail(order);

  it('addresses the customer with a subject naming the order and a Message-ID fixed per order', () => {
    expect(email).toMatchObject({ to: 'ada@example.com', subject: 'Your order ord-42 is confirmed' });
    expect(email.messageId).toBe(confirmationMessageId('ord-42'));
    expect(composeConfirmationEmail(order).messageId).toBe(email.messageId);
    expect(confirmationMessageId('a b/c')).toBe('<confirmation.a_b_c@food-ordering.local>');
  });

  it('lists every item and the total in the plain text', () => {
    expect(email.text).toContain('2 × Pizza Margherita');
    expect(email.text).toContain('€17.00');
    expect(email.text).toContain("1 × Chef's <special> & co");
    expect(email.text).toMatch(/Total: €29\.50/);
    expect(email.text).toContain('Payment reference: tx-9');
  });

  it('lists them in the HTML too, escaped', () => {
    expect(email.html).toContain('<td>2 × Pizza Margherita</td>');
    expect(email.html).toContain('Chef&#39;s &lt;special&gt; &amp; co');
    expect(email.html).toContain('€29.50');
    expect(email.html).not.toContain('<special>');
  });
});
