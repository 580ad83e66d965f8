import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './order-cursor';

describe('myOrders cursors', () => {
  it('round-trips a position and is opaque', () => {
    const position = { createdAt: new Date('2025-01-02T03:04:05.678Z'), id: 'order-1' };
    const cursor = encodeCursor(position);
    expect(cursor).not.toContain('order-1');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['not base64 JSON', 'not a cursor!'],
    ['JSON of the wrong shape', Buffer.from('{"a":1}').toString('base64url')],
    ['a bad date', Buffer.from('["yesterday","o-1"]').toString('base64url')],
    ['an empty id', Buffer.from('["2025-01-02T03:04:05.678Z",""]').toString('base64url')],
  ])('refuses %s as BAD_USER_INPUT on "after"', (_name, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'after' }));
  });
});
