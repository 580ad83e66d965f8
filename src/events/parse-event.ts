import type { z } from 'zod';
import { AppError } from '../errors';
import { eventSchemas } from './topics';

export type KnownEventType = keyof typeof eventSchemas;
export type EventOf<T extends KnownEventType> = z.infer<(typeof eventSchemas)[T]>;

/** A message that will never parse, however often it is retried: it goes to the dead-letter topic. */
export class InvalidEventError extends AppError {
  constructor(message: string, cause?: unknown) {
    super('INVALID_EVENT', message, { retriable: false, cause });
  }
}

/** The one place raw Kafka message values become typed events. */
export function parseEvent<T extends KnownEventType>(type: T, value: Buffer | string | null | undefined): EventOf<T> {
  if (value === null || value === undefined) throw new InvalidEventError(`${type}: message has no value`);
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch (error) {
    throw new InvalidEventError(`${type}: value is not JSON`, error);
  }
  const result = eventSchemas[type].safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidEventError(`${type}: ${problems}`);
  }
  return result.data as EventOf<T>;
}

export function isKnownEventType(topic: string): topic is KnownEventType {
  return Object.hasOwn(eventSchemas, topic);
}
