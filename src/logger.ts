import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One pino logger per process, named after the module it serves (`api`, `transactions`,
 * `devstack`...). JSON lines by default; `pretty` is for people watching a terminal.
 */
export function createLogger(name: string, options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? 'info';
  if (options.pretty) {
    return pino({
      name,
      level,
      transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } },
    });
  }
  return pino({ name, level });
}
