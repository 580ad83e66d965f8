import { InvalidInputError } from '../domain/domain.errors';

/** Where a page of myOrders ends: orders are listed newest first by (createdAt, id). */
export interface OrderPosition {
  readonly createdAt: Date;
  readonly id: string;
}

/** An opaque cursor: clients pass it back, never build it (the encoding may change). */
export function encodeCursor(position: OrderPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id]), 'utf8').toString('base64url');
}

/** The position a cursor names; BAD_USER_INPUT on `field` for anything this API did not issue. */
export function decodeCursor(cursor: string, field = 'after'): OrderPosition {
  const invalid = () => new InvalidInputError(field, `"${field}" is not a cursor this API returned`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || id.length === 0) throw invalid();
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== at) throw invalid();
  return { createdAt, id };
}
