import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { createLogMailer } from './mailer';

describe('createLogMailer', () => {
  it('records an email in the log without its recipient', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const mailer = createLogMailer(createLogger('spec', { destination }));
    await mailer.send({ to: 'grace@example.com', subject: 'Order o-1 confirmed', text: 'Thanks', messageId: '<o-1@food>' } as Parameters<typeof mailer.send>[0]);
    expect(lines.join('')).toContain('Order o-1 confirmed');
    expect(lines.join('')).not.toContain('grace@example.com');
  });
});
