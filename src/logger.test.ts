import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger, withoutPassword } from './logger';

/** A logger whose lines are kept as text. */
function capturedLogger(name = 'spec', pretty = false) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger(name, { destination, pretty }), text: () => lines.join('') };
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

describe('withoutPassword', () => {
  it('hides the password of a connection string and keeps the rest readable', () => {
    expect(withoutPassword('mongodb://orders:s3cr%40t@db.internal:27017/food-ordering?authSource=admin&tls=true')).toBe(
      'mongodb://orders:***@db.internal:27017/food-ordering?authSource=admin&tls=true',
    );
    expect(withoutPassword('mongodb+srv://orders:pw@cluster0.example.net/food-ordering')).toBe('mongodb+srv://orders:***@cluster0.example.net/food-ordering');
    expect(withoutPassword('mongodb://orders:pw@h1:27017,h2:27017/db?replicaSet=rs0')).toBe('mongodb://orders:***@h1:27017,h2:27017/db?replicaSet=rs0');
  });

  it('leaves a string without a password as it is', () => {
    for (const url of ['mongodb://127.0.0.1:27017/food-ordering', 'mongodb://user@db/x', 'smtp://mailpit:1025']) expect(withoutPassword(url)).toBe(url);
  });
});

describe('chooseLogFormat (./dev and the processes it runs)', () => {
  it('gives a person at a terminal readable lines, and JSON to a pipe or a file', () => {
    expect(chooseLogFormat(undefined, true, 'development')).toBe('pretty');
    expect(chooseLogFormat(undefined, false, 'development')).toBe('json');
  });

  it('writes JSON in production, terminal or not', () => {
    expect(chooseLogFormat(undefined, true, 'production')).toBe('json');
  });

  it('does what LOG_FORMAT says when it is set', () => {
    expect(chooseLogFormat('json', true, 'development')).toBe('json');
    expect(chooseLogFormat('pretty', false, 'production')).toBe('pretty');
  });
});

describe('createLogger pretty (a terminal)', () => {
  it('writes one readable line per event, naming the process, with no email address or payment token', () => {
    const { log, text } = capturedLogger('confirmations', true);
    log.info({ key: 'o-1', event: { data: { customerEmail: 'grace@example.com', paymentToken: 'tok_visa_4242' } } }, 'handled order.confirmed');
    const written = text();
    expect(written).toMatch(/^\[\d\d:\d\d:\d\d\] INFO \(confirmations\): handled order\.confirmed\n/);
    expect(written).toContain('key: "o-1"');
    expect(written).not.toContain('grace@example.com');
    expect(written).not.toContain('tok_visa_4242');
    expect(written).not.toMatch(/^\{/m); // not JSON
  });
});

describe('error lines', () => {
  it('keep the message, the type and a cause of an error whose fields are deep and circular (a driver error)', () => {
    const lines: string[] = [];
    const log = createLogger('errors', { destination: { write: (line: string) => void lines.push(line) } });
    const connection: Record<string, unknown> = { id: 7 };
    connection.self = connection;
    const error = Object.assign(new Error('connection 7 closed', { cause: Object.assign(new Error('socket ended'), { code: 'EPIPE' }) }), {
      name: 'MongoBulkWriteError',
      code: 6,
      result: { connection, nested: { deeper: { still: [connection] } } },
    });
    log.warn({ err: error }, 'retrying');
    const { err } = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(err).toMatchObject({ message: expect.stringContaining('connection 7 closed') as string, code: 6, cause: { message: 'socket ended', code: 'EPIPE' } });
    expect(err).not.toHaveProperty('result');
    expect(String(err.stack)).toContain('connection 7 closed');
  });
});
