import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { confirmationMessageId } from '../../src/email/confirmation-email';

/** A real SMTP server on a free local port that keeps every mail it accepts, parsed. */
export interface Mailbox {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  readonly url: string;
  readonly received: ParsedMail[];
  /** The confirmation emails of one order (matched by their Message-ID). */
  confirmationsOf(orderId: string): ParsedMail[];
  /** When the server accepted `mail` (ms since the epoch). */
  acceptedAt(mail: ParsedMail): number | undefined;
  stop(): Promise<void>;
}

const bare = (messageId: string | undefined) => messageId?.replace(/^<|>$/g, '');

/** @param options.acceptDelayMs how long the server takes over each mail before accepting it (a slow server). */
export async function startMailbox(options: { readonly acceptDelayMs?: number } = {}): Promise<Mailbox> {
  const received: ParsedMail[] = [];
  const accepted = new WeakMap<ParsedMail, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(async (mail) => {
        if (options.acceptDelayMs) await new Promise((resolve) => setTimeout(resolve, options.acceptDelayMs));
        received.push(mail);
        accepted.set(mail, Date.now());
        callback();
      }, callback);
    },
  });
  // A sender SIGKILLed mid-message (the drills) resets its connection: that message was never
  // accepted, as at any mail server. smtp-server re-emits connection errors on the server, and
  // an EventEmitter's unheard 'error' is an uncaught exception in the test process.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    confirmationsOf: (orderId) => received.filter((m) => bare(m.messageId) === bare(confirmationMessageId(orderId))),
    acceptedAt: (mail) => accepted.get(mail),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
