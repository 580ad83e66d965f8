import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nameBasedUuid, stableEventId } from './envelope';

describe('stableEventId', () => {
  it('derives the same valid UUID from the same names, and different ones otherwise', () => {
    const id = stableEventId('order.confirmed', 'tx-1');
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableEventId('order.confirmed', 'tx-1')).toBe(id);
    expect(stableEventId('order.confirmed', 'tx-2')).not.toBe(id);
    expect(stableEventId('order.confirmed', 'tx', '-1')).not.toBe(stableEventId('order.confirmed', 'tx-', '1'));
    expect(id).toBe('53443ffc-98e5-593f-b603-1dedc0445234'); // never changes: consumers dedupe on it
  });
});

describe('nameBasedUuid', () => {
  it('computes RFC 4122 version-5 UUIDs (the DNS-namespace test vector)', () => {
    expect(nameBasedUuid(Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex'), 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});
