import { AppError } from '../errors';

/** No usable identity: the token is missing, malformed, wrongly signed or expired. */
export class UnauthenticatedError extends AppError {
  constructor(message: string, cause?: unknown) {
    super('UNAUTHENTICATED', message, { cause });
  }
}

/** A valid identity whose role may not do this. */
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}
