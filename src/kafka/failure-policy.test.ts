import { KafkaJSBrokerNotFound, KafkaJSConnectionError, KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, OrderTransitionError } from '../domain/domain.errors';
import { MailDeliveryError } from '../email/mailer';
import { AppError } from '../errors';
import { InvalidEventError } from '../events/parse-event';
import { PaymentRejectedError } from '../payments/payment-gateway';
import { budgetSpent, classifyFailure, CoordinatorLost, DeadLetterBreaker, isCoordinatorUnreachable, isRebalanceError, restartVerdict } from './failure-policy';

/** kafkajs builds its protocol errors from the broker's answer (its typings say otherwise). */
const protocolError = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code, retriable, message: type } as unknown as Error);

describe('classifyFailure', () => {
  it('dead-letters only what blames the message: an invalid event, a domain rule, an impossible transition, a refusal for good', () => {
    expect(classifyFailure(new InvalidEventError('order.placed: value is not JSON'))).toBe('dead-letter');
    expect(classifyFailure(new InvalidInputError('items', 'an order has 1 to 50 lines'))).toBe('dead-letter');
    expect(classifyFailure(new OrderTransitionError('DELIVERED', 'cancel'))).toBe('dead-letter');
    expect(classifyFailure(new PaymentRejectedError('no captured charge ch_1 to refund'))).toBe('dead-letter');
    expect(classifyFailure(new MailDeliveryError(Object.assign(new Error('550 no such mailbox'), { responseCode: 550 }), 'rejected'))).toBe('dead-letter');
  });

  it('stops on environment faults and on everything unexpected, never dead-letters them', () => {
    expect(classifyFailure(new MailDeliveryError(Object.assign(new Error('535 bad credentials'), { code: 'EAUTH' }), 'misconfigured'))).toBe('stop');
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'orderId')"))).toBe('stop');
    expect(classifyFailure(new Error('something else'))).toBe('stop');
    expect(classifyFailure('a thrown string')).toBe('stop');
    expect(classifyFailure(new AppError('INTERNAL_SERVER_ERROR', 'refusing to publish an invalid event'))).toBe('stop');
    expect(classifyFailure(new KafkaJSNumberOfRetriesExceeded(new Error('broker gone'), { retryCount: 8, retryTime: 10_000 }))).toBe('stop');
    // a plain object that merely carries a message-fault code is not one of our typed errors
    expect(classifyFailure({ code: 'INVALID_EVENT' })).toBe('stop');
  });

  it('retries what is bound to the message (a claim held elsewhere) and waits out an unreachable dependency', () => {
    expect(classifyFailure(new AppError('IN_PROGRESS', 'the payment of order o-1 is in progress', { retriable: true }))).toBe('retry');
    expect(classifyFailure(new AppError('CONFLICT', 'order o-1 changed since it was decided', { retriable: true }))).toBe('retry');
    expect(classifyFailure(new AppError('UNAVAILABLE', 'the payment gateway did not answer', { retriable: true }))).toBe('wait-out');
    expect(classifyFailure(new MailDeliveryError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' }), 'retriable'))).toBe('wait-out');
    expect(classifyFailure(Object.assign(new Error('connection 1 to 127.0.0.1:27017 closed'), { name: 'MongoNetworkError' }))).toBe('wait-out');
    expect(classifyFailure(protocolError('NOT_LEADER_FOR_PARTITION', 6, true))).toBe('wait-out');
  });
});

describe('budgetSpent', () => {
  const budget = { attempts: 3, ms: 10_000 };
  it('is spent by attempts or by time, whichever comes first', () => {
    expect(budgetSpent(budget, 2, 1_000, 500)).toBe(false);
    expect(budgetSpent(budget, 3, 1_000, 500)).toBe(true);
    expect(budgetSpent(budget, 1, 9_800, 500)).toBe(true); // the next wait would end past the budget
  });
});

describe('restartVerdict', () => {
  it('stops and counts while the restarts in a row at this message are below the limit, then parks it', () => {
    expect(restartVerdict(null, '42', 3)).toEqual({ action: 'stop', record: { offset: '42', restarts: 1 } });
    expect(restartVerdict({ offset: '42', restarts: 2 }, '42', 3)).toEqual({ action: 'stop', record: { offset: '42', restarts: 3 } });
    expect(restartVerdict({ offset: '42', restarts: 3 }, '42', 3)).toEqual({ action: 'park', restarts: 3 });
  });

  it('starts counting again at another message: the one recorded has passed since', () => {
    expect(restartVerdict({ offset: '41', restarts: 3 }, '42', 3)).toEqual({ action: 'stop', record: { offset: '42', restarts: 1 } });
  });
});

describe('DeadLetterBreaker', () => {
  it('trips on the dead letter that makes more than `limit` within the window, and forgets older ones', () => {
    let now = 0;
    const breaker = new DeadLetterBreaker({ limit: 3, windowMs: 1_000 }, () => now);
    expect([breaker.tripsOn(), breaker.tripsOn(), breaker.tripsOn()]).toEqual([false, false, false]);
    now = 999;
    expect(breaker.tripsOn()).toBe(true);
    const calm = new DeadLetterBreaker({ limit: 3, windowMs: 1_000 }, () => now);
    for (const at of [0, 400, 800, 1_200, 1_600, 2_000]) {
      now = at;
      expect(calm.tripsOn(), `at ${at}`).toBe(false);
    }
  });
});

describe('isRebalanceError', () => {
  it("knows kafkajs' rebalance answers to a heartbeat and nothing else", () => {
    expect(isRebalanceError(protocolError('REBALANCE_IN_PROGRESS', 27, false))).toBe(true);
    expect(isRebalanceError(protocolError('UNKNOWN_MEMBER_ID', 25, false))).toBe(true);
    expect(isRebalanceError(new Error('REBALANCE_IN_PROGRESS'))).toBe(false);
  });
});

/** As kafkajs throws it, with its message (its typings take none). */
const brokerNotFound = (message: string) => new (KafkaJSBrokerNotFound as unknown as new (message: string) => Error)(message);

describe('isCoordinatorUnreachable', () => {
  it('recognises a commit that could not reach the group coordinator, however kafkajs wraps it, and nothing else', () => {
    const gone = brokerNotFound('Broker 3 not found in the cached metadata');
    expect(isCoordinatorUnreachable(new KafkaJSNumberOfRetriesExceeded(gone, { retryCount: 5, retryTime: 1000 }))).toBe(true);
    expect(isCoordinatorUnreachable(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:31660'))).toBe(true);
    expect(isCoordinatorUnreachable(new KafkaJSProtocolError('The request timed out'))).toBe(false);
    expect(isCoordinatorUnreachable(new Error('boom'))).toBe(false);
    expect(isCoordinatorUnreachable(undefined)).toBe(false);
  });

  it('is rethrown as a rebalance, so that kafkajs joins again and asks for the current coordinator', () => {
    expect(isRebalanceError(new CoordinatorLost(brokerNotFound('gone')))).toBe(true);
  });

  it('is a KafkaJSError that keeps its cause, so kafkajs does not log each batch that gives way to the rejoin', () => {
    const lost = new CoordinatorLost(brokerNotFound('gone'));
    expect(lost).toBeInstanceOf(KafkaJSError);
    expect(lost).toMatchObject({ name: 'CoordinatorLost', retriable: true, cause: { name: 'KafkaJSBrokerNotFound' } });
  });
});
