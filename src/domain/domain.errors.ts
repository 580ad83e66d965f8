import { AppError } from '../errors';

/** Input a person can correct: the GraphQL answer is BAD_USER_INPUT naming `field`. */
export class InvalidInputError extends AppError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_USER_INPUT', message);
  }
}

/** A transition the order's current status does not allow: the GraphQL answer is CONFLICT. */
export class OrderTransitionError extends AppError {
  constructor(
    readonly from: string,
    readonly action: string,
  ) {
    super('CONFLICT', `cannot ${action} an order that is ${from}`);
  }
}
