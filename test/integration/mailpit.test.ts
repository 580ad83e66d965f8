/**
 * The local stack's Mailpit against real sockets and a real process: an operator's SMTP_URL is
 * used as is (nothing built or started), a taken port is refused in one sentence naming its
 * variable, and on free ports it starts, takes a confirmation email from our mailer (seen
 * through its HTTP API) and stops. Uses the built binary but a state folder of its own, so the
 * Mailpit the other tests share is neither found nor touched.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { ensureMailpitBinary, startMailpit, stopMailpit } from '../../src/devstack/mailpit';
import { stackPaths, type StackPaths } from '../../src/devstack/paths';
import { isAlive, runningPid } from '../../src/devstack/processes';
import { ensureStack } from '../../src/devstack/stack';
import { StackError } from '../../src/devstack/stack.errors';
import { composeConfirmationEmail } from '../../src/email/confirmation-email';
import { createSmtpMailer } from '../../src/email/mailer';
import { createLogger } from '../../src/logger';
import { uniqueName } from '../support/services';

const log = createLogger('test', { level: 'silent' });
const stateDir = mkdtempSync(join(tmpdir(), 'mailpit-test-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, () => resolve()));
  return { server, port: (server.address() as { port: number }).port };
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('ensureStack with an operator\'s SMTP_URL', () => {
  it('passes it on as is and builds and starts no Mailpit', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      LOCAL_STATE_DIR: join(stateDir, 'given'),
      KAFKA_BROKERS: inject('kafkaBrokers'),
      MONGO_URL: inject('mongoUrl'),
      SMTP_URL: 'smtp://mail.example.internal:2525',
    });
    const stack = await ensureStack(config, log);
    expect(stack.smtpUrl).toBe('smtp://mail.example.internal:2525');
    expect(stack.mailUiUrl).toBeUndefined();
    expect(stack.started.mail).toBe(false);
    const paths = stackPaths(join(stateDir, 'given'));
    expect(existsSync(paths.mailpitBinary)).toBe(false);
    expect(existsSync(paths.mailpitPid)).toBe(false);
  });
});

describe('startMailpit', () => {
  const real = stackPaths(process.env.LOCAL_STATE_DIR || '.local');
  const paths: StackPaths = { ...stackPaths(join(stateDir, 'own')), mailpitSource: real.mailpitSource, mailpitBinary: real.mailpitBinary };
  afterAll(() => stopMailpit(paths, log));

  it('refuses a taken port in one sentence naming its variable, starting nothing', async () => {
    await ensureMailpitBinary(real, log); // the shared build, made once (a no-op when the services run)
    const taken = await listening();
    try {
      const error = await startMailpit({ paths, log, smtpPort: taken.port, uiPort: taken.port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StackError);
      expect((error as StackError).message).toContain(`Port ${taken.port} (Mailpit (SMTP))`);
      expect((error as StackError).message).toContain('MAILPIT_SMTP_PORT');
      expect(existsSync(paths.mailpitPid)).toBe(false);
    } finally {
      await close(taken.server);
    }
  });

  it('starts on free ports, takes an email from our mailer, shows it through its API, and stops', async () => {
    const [smtp, ui] = [await listening(), await listening()];
    await Promise.all([close(smtp.server), close(ui.server)]);
    const mailpit = await startMailpit({ paths, log, smtpPort: smtp.port, uiPort: ui.port });
    expect(mailpit).toEqual({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, uiUrl: `http://127.0.0.1:${ui.port}/`, started: true });
    expect((await startMailpit({ paths, log, smtpPort: smtp.port, uiPort: ui.port })).started).toBe(false);

    const orderId = uniqueName('mailpit-unit');
    const email = composeConfirmationEmail({
      orderId, customerId: 'c-1', customerEmail: 'ada@example.com', restaurantId: 'trattoria',
      items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 1, unitPriceCents: 850, lineTotalCents: 850 }],
      totalCents: 850, currency: 'EUR', transactionId: 'tx-1', confirmedAt: new Date().toISOString(),
    });
    const mailer = createSmtpMailer(mailpit.smtpUrl);
    try {
      await mailer.send(email);
    } finally {
      mailer.close();
    }
    const list = (await (await fetch(`${mailpit.uiUrl}api/v1/messages`)).json()) as { messages: { Subject: string; To: { Address: string }[] }[] };
    expect(list.messages.map((m) => [m.Subject, m.To.map((t) => t.Address)])).toEqual([[email.subject, ['ada@example.com']]]);

    const pid = runningPid(paths.mailpitPid)!;
    await stopMailpit(paths, log);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(paths.mailpitPid)).toBe(false);
  });
});
