import nodemailer from 'nodemailer';
import { AppError } from '../errors';
import type { Logger } from '../logger';

/** One email ready to go: both bodies, and a Message-ID fixed by the caller (see confirmation-email.ts). */
export interface OutgoingEmail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly messageId: string;
}

export interface Mailer {
  /** `smtp` when an SMTP server accepted it, `log` when only written to the log (SMTP_URL unset). */
  readonly delivery: 'smtp' | 'log';
  /** Resolves once the server accepted the message; throws MailDeliveryError otherwise. */
  send(email: OutgoingEmail): Promise<{ readonly messageId: string }>;
  close(): void;
}

/** The SMTP server did not take the message: retriable when it may later (connection, 4xx), not when it refused it (5xx, auth). */
export class MailDeliveryError extends AppError {
  constructor(cause: unknown, retriable: boolean) {
    super(retriable ? 'UNAVAILABLE' : 'MAIL_REJECTED', `email not sent: ${cause instanceof Error ? cause.message : String(cause)}`, { retriable, cause });
  }
}

/** Failures that the same message would meet again: a permanent SMTP reply, bad credentials or configuration. */
function isPermanent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { permanent, code } = error as { permanent?: unknown; code?: unknown };
  return permanent === true || code === 'EAUTH' || code === 'ENOAUTH' || code === 'ECONFIG';
}

/**
 * Sends through the SMTP server at `smtpUrl` (`smtp://host:port`, credentials in the URL if
 * any) over up to five pooled connections, so a round of confirmations goes out side by side.
 * Timeouts are short so a hung server fails the attempt well inside the confirmations
 * consumer's claim lease.
 */
export function createSmtpMailer(smtpUrl: string): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: 5,
    maxMessages: 1_000,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    delivery: 'smtp',
    async send(email) {
      try {
        const info = await transport.sendMail(email);
        return { messageId: info.messageId || email.messageId };
      } catch (error) {
        throw new MailDeliveryError(error, !isPermanent(error));
      }
    },
    close: () => transport.close(),
  };
}

/** For development without a mail server: the email is written to the log instead of sent. */
export function createLogMailer(log: Logger): Mailer {
  return {
    delivery: 'log',
    async send(email) {
      log.info({ to: email.to, subject: email.subject, messageId: email.messageId }, 'SMTP_URL is unset: email recorded, not sent');
      return { messageId: email.messageId };
    },
    close: () => undefined,
  };
}
