/**
 * The SMTP mailer against a real (slow) SMTP server: a send's time limit counts from when it
 * gets one of the pooled connections, not from when it was queued behind a round's other mails.
 * Counted from the queue, a round of confirmations timed out in the queue, was retried, and the
 * pool sent the first copies anyway: the backlog drain received 863 confirmations twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer } from '../../src/email/mailer';
import { startMailbox, type Mailbox } from '../support/mailbox';

let mailbox: Mailbox;
let mailer: Mailer;

beforeAll(async () => {
  mailbox = await startMailbox({ acceptDelayMs: 250 });
  mailer = createSmtpMailer(mailbox.url, { sendTimeoutMs: 1500 });
});

afterAll(async () => {
  await mailer?.close();
  await mailbox?.stop();
});

describe('createSmtpMailer', () => {
  it('sends a round far larger than its pool within the per-send limit, each mail once', async () => {
    const mails = Array.from({ length: 40 }, (_, i) => ({ to: `guest${i}@example.com`, subject: `Order ${i} confirmed`, text: 'Thanks', messageId: `<order-${i}@slow-smtp-test>` }));
    const sent = await Promise.allSettled(mails.map((mail) => mailer.send(mail as Parameters<Mailer['send']>[0])));
    // 40 mails over 5 connections at 250 ms each take about 2 s: longer than one send's limit.
    expect(sent.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(mailbox.received).toHaveLength(40);
  });
});
