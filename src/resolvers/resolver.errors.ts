import { AppError } from '../errors';

/** Absent, or not the caller's to see: both answer the same so ids cannot be probed. */
export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} "${id}" was not found`);
  }
}

/** The request contradicts what is already there (a reused idempotency key, a racing request). */
export class ConflictError extends AppError {
  constructor(message: string, options: { retriable?: boolean } = {}) {
    super('CONFLICT', message, options);
  }
}
