/**
 * A real SMTP server on a free local port that only counts what it accepts: every message, and
 * the distinct Message-IDs among them (the product gives each order's confirmation its own, so
 * a resent confirmation counts once there and shows as a duplicate). It reads only the header
 * block of each message, so it keeps up with thousands of emails a second.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';

export interface CountingMailbox {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  readonly url: string;
  /** Messages accepted. */
  received(): number;
  /** Distinct Message-IDs among them (a message without one counts as distinct). */
  distinct(): number;
  /** performance.now() when the distinct count first reached `count`, if it has. */
  reachedAt(count: number): number | undefined;
  stop(): Promise<void>;
}

const MESSAGE_ID = /^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/im;

export async function startCountingMailbox(): Promise<CountingMailbox> {
  let received = 0;
  const ids = new Set<string>();
  let anonymous = 0;
  /** performance.now() at each distinct count, in order: reachedAt(n) is the n-th entry. */
  const distinctAt: number[] = [];

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // Senders are stopped before the server: do not wait the default 30 s for idle pooled connections.
    closeTimeout: 2_000,
    onData(stream, _session, callback) {
      let head = '';
      let headDone = false;
      stream.on('data', (chunk: Buffer) => {
        if (headDone) return;
        head += chunk.toString('latin1');
        const end = head.search(/\r?\n\r?\n/);
        if (end >= 0) {
          head = head.slice(0, end);
          headDone = true;
        }
      });
      stream.on('end', () => {
        received += 1;
        const id = MESSAGE_ID.exec(head)?.[1]?.replace(/\s+/g, '');
        const before = ids.size + anonymous;
        if (id) ids.add(id);
        else anonymous += 1;
        if (ids.size + anonymous > before) distinctAt.push(performance.now());
        callback();
      });
      stream.on('error', (error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    distinct: () => ids.size + anonymous,
    reachedAt: (count) => distinctAt[count - 1],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
