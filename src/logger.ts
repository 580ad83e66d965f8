import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Where personal data or secrets sit in what we log (an event, its payload, a request, an error's context). */
const SENSITIVE_KEYS = ['email', 'customerEmail', 'recipient', 'paymentToken', 'authorization', 'password', 'jwtSecret'];

/**
 * A safety net, not the policy: no log call should pass these in the first place (emails and
 * payment tokens stay out of logs). Any that slips through, up to three levels down (an
 * event's `data`, a request's `input` or `headers`), is written as `[redacted]`.
 */
export const REDACTED_PATHS: readonly string[] = SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

/**
 * A connection string fit for a log line or a status print: the password of its user info is
 * replaced by `***` (`mongodb://orders:***@db:27017/food-ordering`). A regular expression, not
 * `new URL`: a MongoDB seed list (`h1:27017,h2:27017`) is no WHATWG URL. The drivers require
 * `@`, `:` and `/` in a password to be percent-encoded, so the first `@` ends the user info.
 */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * PURE: the log format `./dev` gives itself and every process it runs. LOG_FORMAT when set;
 * otherwise readable lines for a person at a terminal, and JSON for anything else (a pipe, a
 * file, a log collector) and always in production, where lines go to a collector and
 * pino-pretty (a dev dependency) may not be installed.
 */
export function chooseLogFormat(given: string | undefined, stdoutIsTerminal: boolean, nodeEnv: string): 'json' | 'pretty' {
  if (given === 'json' || given === 'pretty') return given;
  return stdoutIsTerminal && nodeEnv !== 'production' ? 'pretty' : 'json';
}

/**
 * pino's error serializer, keeping only fields a person reads: the driver's errors carry their
 * whole operation (a bulk write's result, a connection) as fields, deep and circular enough
 * that a line came out as "[unable to serialize, circular reference is too complex]" with no
 * message at all. Nested values are dropped, except a cause, kept as its own short error.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const full = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(full)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) kept[key] = value;
  }
  if (error.cause instanceof Error) kept.cause = serializeError(error.cause);
  return kept;
}

/**
 * One pino logger per process, named after the module it serves (`api`, `transactions`,
 * `devstack`...). JSON lines by default; `pretty` is for people watching a terminal: one line
 * `[12:00:00] INFO (confirmations): handled order.confirmed` with the fields indented below,
 * written synchronously on this thread (no line lost when the process exits; speed does not
 * matter at a terminal). Redaction applies to both. `destination` is for tests that read what
 * was written.
 */
export function createLogger(name: string, options: { level?: string; pretty?: boolean; destination?: DestinationStream } = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: [...REDACTED_PATHS], censor: '[redacted]' };
  const serializers = { err: serializeError };
  if (options.pretty) {
    // Loaded only here: pino-pretty is a dev dependency, absent from a production install.
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    const stream = pretty.build({
      colorize: options.destination === undefined,
      ignore: 'pid,hostname',
      translateTime: 'HH:MM:ss',
      sync: true,
      destination: options.destination ?? 1,
    });
    return pino({ name, level, redact, serializers }, stream);
  }
  return options.destination ? pino({ name, level, redact, serializers }, options.destination) : pino({ name, level, redact, serializers });
}
