import { AppError } from '../errors';

/**
 * A problem of the local stack that a person must fix (a missing tool, a taken port). Its
 * message is one sentence saying what to do; the command line prints it without a stack trace.
 */
export class StackError extends AppError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super('STACK_ERROR', message, options);
  }
}
