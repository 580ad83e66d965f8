import nodemailer from 'nodemailer';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { withTimeout } from '../retry';

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

/**
 * Why the SMTP server did not take a message: `retriable` when it may later (no connection, a
 * 4xx, no answer in time); `rejected` when it refused this message for good (a 5xx about the
 * recipient or content: dead-lettered); `misconfigured` when it refuses us (credentials, TLS or
 * transport settings: no message passes until an operator fixes it, so the consumer stops).
 */
export type MailFailureKind = 'retriable' | 'rejected' | 'misconfigured';

export class MailDeliveryError extends AppError {
  constructor(
    cause: unknown,
    readonly kind: MailFailureKind,
  ) {
    const code = kind === 'retriable' ? 'UNAVAILABLE' : kind === 'rejected' ? 'MAIL_REJECTED' : 'MISCONFIGURED';
    super(code, `email not sent: ${cause instanceof Error ? cause.message : String(cause)}`, { retriable: kind === 'retriable', cause });
  }
}

/** nodemailer's codes for "we are refused", whatever the message: authentication and configuration. */
const OUR_FAULT_CODES = new Set(['EAUTH', 'ENOAUTH', 'ECONFIG', 'ETLS']);
/** SMTP replies that mean the same: authentication required, too weak, or failed. */
const OUR_FAULT_REPLIES = new Set([530, 534, 535, 538]);

/** PURE: what a nodemailer failure means for the message being sent (see MailFailureKind). */
export function mailFailureKind(error: unknown): MailFailureKind {
  if (typeof error !== 'object' || error === null) return 'retriable';
  const { permanent, code, responseCode } = error as { permanent?: unknown; code?: unknown; responseCode?: unknown };
  if (OUR_FAULT_CODES.has(String(code)) || OUR_FAULT_REPLIES.has(Number(responseCode))) return 'misconfigured';
  if (permanent === true || (typeof responseCode === 'number' && responseCode >= 500)) return 'rejected';
  return 'retriable';
}

/** Longest one send may take, whatever the server does (a slow drip defeats the socket timeout): below the consumer session timeout. */
export const SMTP_SEND_TIMEOUT_MS = 20_000;

/** Pooled SMTP connections, and so sends in flight at once. */
const SMTP_CONNECTIONS = 5;

/** At most `n` holders at a time; the rest wait their turn in order. */
function turns(n: number): { take(): Promise<void>; give(): void } {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    take: () => (free > 0 ? ((free -= 1), Promise.resolve()) : new Promise<void>((resolve) => waiting.push(resolve))),
    give: () => {
      const next = waiting.shift();
      if (next) next();
      else free += 1;
    },
  };
}

/**
 * Sends through the SMTP server at `smtpUrl` (`smtp://host:port`, credentials in the URL if
 * any) over up to five pooled connections, so a round of confirmations goes out side by side.
 * Timeouts are short so a hung server fails the attempt well inside the confirmations
 * consumer's claim lease. A send's time limit starts when it gets a connection, not when it is
 * queued: a round of 500 waits its turn, and timing out in the queue would retry mails the
 * pool then sends anyway (the backlog drain saw 863 confirmations sent twice that way).
 */
export function createSmtpMailer(smtpUrl: string, options: { readonly sendTimeoutMs?: number } = {}): Mailer {
  const sendTimeoutMs = options.sendTimeoutMs ?? SMTP_SEND_TIMEOUT_MS;
  const connections = turns(SMTP_CONNECTIONS);
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: SMTP_CONNECTIONS,
    maxMessages: 1_000,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    delivery: 'smtp',
    async send(email) {
      await connections.take();
      try {
        const info = await withTimeout(transport.sendMail(email), sendTimeoutMs, () => new Error(`the SMTP server did not take the message within ${sendTimeoutMs} ms`));
        return { messageId: info.messageId || email.messageId };
      } catch (error) {
        throw new MailDeliveryError(error, mailFailureKind(error));
      } finally {
        connections.give();
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
      // Not the recipient: an email address is personal data, and logs travel further than the mail would.
      log.info({ subject: email.subject, messageId: email.messageId }, 'SMTP_URL is unset: email recorded, not sent');
      return { messageId: email.messageId };
    },
    close: () => undefined,
  };
}
