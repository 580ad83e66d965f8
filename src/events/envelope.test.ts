import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { stableEventId } from './envelope';

describe('stableEventId', () => {
  it('derives the same valid UUID from the same names, and different ones otherwise', () => {
    const id = stableEventId('order.confirmed', 'tx-1');
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableEventId('order.confirmed', 'tx-1')).toBe(id);
    expect(stableEventId('order.confirmed', 'tx-2')).not.toBe(id);
    expect(stableEventId('order.confirmed', 'tx', '-1')).not.toBe(stableEventId('order.confirmed', 'tx-', '1'));
  });
});
