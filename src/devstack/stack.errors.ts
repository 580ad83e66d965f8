import { AppError } from '../errors';

/**
 * A problem of the local stack that a person must fix (a missing tool, a taken port). Its
 * message opens with one sentence saying what is wrong and what to do; where a server or a
 * build failed, the last lines of its log follow. The command line prints it without a
 * stack trace.
 */
export class StackError extends AppError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super('STACK_ERROR', message, options);
  }
}
