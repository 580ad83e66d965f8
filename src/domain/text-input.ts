import { InvalidInputError } from './domain.errors';

/**
 * PURE: checks on text a caller sends that ends up in a store query or an event. PostgreSQL
 * (under FerretDB) refuses a NUL in any string, so one reaching a query failed as an internal
 * error, and one inside an event would poison every consumer that stores it; ids are never
 * meant to carry control characters at all.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Longest id (order, restaurant) accepted; ids this API makes are far shorter. */
export const MAX_ID_LENGTH = 200;

/** An id: 1..MAX_ID_LENGTH characters, none of them a control character. */
export function checkId(field: string, value: string): string {
  if (value.length < 1 || value.length > MAX_ID_LENGTH || CONTROL_CHARACTERS.test(value)) {
    throw new InvalidInputError(field, `${field} must be 1 to ${MAX_ID_LENGTH} characters without control characters`);
  }
  return value;
}

/** Free text (an address, a reason, a key): anything but a NUL character. */
export function checkText(field: string, value: string): string {
  if (value.includes('\u0000')) throw new InvalidInputError(field, `${field} must not contain a NUL character`);
  return value;
}
