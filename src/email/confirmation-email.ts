import type { OrderConfirmed } from '../events/order-events';
import type { OutgoingEmail } from './mailer';

/** Who confirmation emails come from. */
export const CONFIRMATION_SENDER = 'Food Ordering <orders@food-ordering.local>';

/**
 * The Message-ID of an order's confirmation: one per order, so that if a crash ever makes the
 * consumer send it twice, the copies are recognisably the same message (clients thread or
 * drop them) rather than two confirmations.
 */
export function confirmationMessageId(orderId: string): string {
  return `<confirmation.${orderId.replace(/[^A-Za-z0-9._-]/g, '_')}@food-ordering.local>`;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** One formatter per currency: building an Intl.NumberFormat costs far more than using one. */
const formatters = new Map<string, Intl.NumberFormat>();

function money(cents: number, currency: string): string {
  let format = formatters.get(currency);
  if (!format) formatters.set(currency, (format = new Intl.NumberFormat('en-IE', { style: 'currency', currency })));
  return format.format(cents / 100);
}

/** PURE: the confirmation email of an order, as plain text and HTML, with its items and total. */
export function composeConfirmationEmail(order: OrderConfirmed['data'] & { customerEmail: string }): OutgoingEmail {
  const { orderId, items, totalCents, currency, transactionId } = order;
  const lines = items.map((i) => ({ label: `${i.quantity} × ${i.name}`, amount: money(i.lineTotalCents, currency) }));
  const width = Math.max(...lines.map((l) => l.label.length));
  const text = [
    'Thank you for your order! Your payment went through and the restaurant has it.',
    '',
    `Order ${orderId}`,
    '',
    ...lines.map((l) => `  ${l.label.padEnd(width)}  ${l.amount}`),
    '',
    `  Total: ${money(totalCents, currency)}`,
    '',
    `Payment reference: ${transactionId}`,
  ].join('\n');
  const rows = lines.map((l) => `<tr><td>${escapeHtml(l.label)}</td><td style="text-align:right">${escapeHtml(l.amount)}</td></tr>`);
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    '<p>Thank you for your order! Your payment went through and the restaurant has it.</p>',
    `<h2>Order ${escapeHtml(orderId)}</h2>`,
    `<table>${rows.join('')}`,
    `<tr><th style="text-align:left">Total</th><th style="text-align:right">${escapeHtml(money(totalCents, currency))}</th></tr></table>`,
    `<p style="color:#666">Payment reference: ${escapeHtml(transactionId)}</p>`,
    '</body></html>',
  ].join('\n');
  return {
    from: CONFIRMATION_SENDER,
    to: order.customerEmail,
    subject: `Your order ${orderId} is confirmed`,
    text,
    html,
    messageId: confirmationMessageId(orderId),
  };
}
