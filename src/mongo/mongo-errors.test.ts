import { MongoBulkWriteError, MongoNetworkError, MongoServerSelectionError, type BulkWriteResult } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StoreDeadlineExceeded } from './operation-deadline';
import { isDuplicateKeyError, isTransientMongoError } from './mongo-errors';

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { name }, extra);

describe('MongoDB error meanings', () => {
  it('recognises a duplicate key', () => {
    expect(isDuplicateKeyError(named('MongoServerError', { code: 11000 }))).toBe(true);
    expect(isDuplicateKeyError(named('MongoServerError', { code: 2 }))).toBe(false);
    expect(isDuplicateKeyError(null)).toBe(false);
  });

  it('calls unreachable-server failures transient, and nothing else', () => {
    expect(isTransientMongoError(named('MongoNetworkError'))).toBe(true);
    expect(isTransientMongoError(named('MongooseServerSelectionError'))).toBe(true);
    expect(isTransientMongoError(named('MongoServerError', { code: 91 }))).toBe(true); // shutting down
    expect(isTransientMongoError(named('MongoServerError', { hasErrorLabel: (l: string) => l === 'RetryableWriteError' }))).toBe(true);
    expect(isTransientMongoError(Object.assign(new Error('Operation `orders.findOne()` buffering timed out after 10000ms'), { name: 'MongooseError' }))).toBe(true);
    expect(isTransientMongoError(named('MongoServerError', { code: 11000 }))).toBe(false);
    expect(isTransientMongoError(named('ValidationError'))).toBe(false);
    expect(isTransientMongoError('down')).toBe(false);
  });

  it('calls a bulk write the server never answered transient, not a refused write (drill 4)', () => {
    // As the driver throws it: its own bulk error around the network or selection failure.
    const result = { insertedCount: 0 } as BulkWriteResult;
    expect(isTransientMongoError(new MongoBulkWriteError(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1'), result))).toBe(true);
    expect(isTransientMongoError(new MongoBulkWriteError(new MongoServerSelectionError('no server', { type: 'Unknown' } as never), result))).toBe(true);
    const refused = new MongoBulkWriteError({ message: 'E11000 duplicate key', code: 11000, writeErrors: [] }, result);
    expect(isTransientMongoError(refused)).toBe(false);
  });

  it('calls an operation stopped at its deadline transient, bare or wrapped in a bulk error, and a socket failure passed on unwrapped', () => {
    const result = { insertedCount: 0 } as BulkWriteResult;
    expect(isTransientMongoError(new StoreDeadlineExceeded(10_000))).toBe(true);
    expect(isTransientMongoError(new MongoBulkWriteError(new StoreDeadlineExceeded(10_000) as never, result))).toBe(true);
    expect(isTransientMongoError(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }))).toBe(true);
    expect(isTransientMongoError(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
  });
});
