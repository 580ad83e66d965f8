import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { DEAD_LETTER_HEADERS, deadLetterMessage, scrubReason } from './dead-letter';

describe('deadLetterMessage', () => {
  const failed = {
    topic: 'order.placed',
    partition: 3,
    message: { key: Buffer.from('ord-1'), value: Buffer.from('{"broken":'), headers: { 'event-type': 'order.placed' }, offset: '42' },
  };
  const at = new Date('2030-01-01T12:00:00.000Z');

  it('keeps the key, value and headers and adds why, where from and who gave up', () => {
    const dead = deadLetterMessage(failed, new AppError('INVALID_EVENT', 'order.placed: value is not JSON'), 'shop.transactions', at);
    expect(dead.key).toBe(failed.message.key);
    expect(dead.value).toBe(failed.message.value);
    expect(dead.headers).toEqual({
      'event-type': 'order.placed',
      [DEAD_LETTER_HEADERS.reason]: 'order.placed: value is not JSON',
      [DEAD_LETTER_HEADERS.errorCode]: 'INVALID_EVENT',
      [DEAD_LETTER_HEADERS.consumerGroup]: 'shop.transactions',
      [DEAD_LETTER_HEADERS.originalTopic]: 'order.placed',
      [DEAD_LETTER_HEADERS.originalPartition]: '3',
      [DEAD_LETTER_HEADERS.originalOffset]: '42',
      [DEAD_LETTER_HEADERS.failedAt]: at.toISOString(),
    });
  });

  it('names a code for errors without one', () => {
    expect(deadLetterMessage(failed, new TypeError('x is undefined'), 'g', at).headers[DEAD_LETTER_HEADERS.errorCode]).toBe('TypeError');
    expect(deadLetterMessage(failed, 'a string', 'g', at).headers).toMatchObject({ [DEAD_LETTER_HEADERS.errorCode]: 'UNKNOWN', [DEAD_LETTER_HEADERS.reason]: 'a string' });
  });

  it('says after what a parked message was given up on', () => {
    const parked = deadLetterMessage(failed, new TypeError('x is undefined'), 'g', at, '3 restarts in a row at this message');
    expect(parked.value).toBe(failed.message.value);
    expect(parked.headers[DEAD_LETTER_HEADERS.parkedAfter]).toBe('3 restarts in a row at this message');
    expect(deadLetterMessage(failed, 'x', 'g', at).headers).not.toHaveProperty(DEAD_LETTER_HEADERS.parkedAfter);
  });
});

describe('scrubReason', () => {
  it('masks email addresses, credentials in URLs and payment tokens that an error quoted', () => {
    expect(scrubReason('550 5.1.1 <grace.hopper@example.com>: Recipient address rejected')).toBe('550 5.1.1 <<email>>: Recipient address rejected');
    expect(scrubReason('connect ECONNREFUSED mongodb://admin:hunter2@db.internal:27017/orders')).toBe('connect ECONNREFUSED mongodb://<credentials>@db.internal:27017/orders');
    expect(scrubReason('gateway refused tok_visa_4242 (card declined)')).toBe('gateway refused <payment token> (card declined)');
    expect(scrubReason('order o-1: totalCents must be positive')).toBe('order o-1: totalCents must be positive');
  });

  it('is applied to the reason header of every dead letter', () => {
    const letter = deadLetterMessage({ topic: 'order.confirmed', partition: 0, message: { key: null, value: null, headers: {}, offset: '1' } }, new Error('mailbox grace@example.com full'), 'confirmations', new Date());
    expect(letter.headers[DEAD_LETTER_HEADERS.reason]).toBe('mailbox <email> full');
  });
});
