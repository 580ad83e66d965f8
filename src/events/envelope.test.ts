import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, nameBasedUuid, schemasOf, stableEventId } from './envelope';

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

describe('defineEvent', () => {
  const tipped = defineEvent('order.tipped', z.object({ orderId: z.string(), cents: z.number().int() }));

  it('makes the wire envelope { id, type, version, occurredAt, data }, with a given id and time kept', () => {
    const event = tipped({ orderId: 'o-1', cents: 200 }, { id: stableEventId('order.tipped', 'o-1'), occurredAt: '2030-01-01T12:00:00.000Z' });
    expect(JSON.parse(JSON.stringify(event))).toEqual({ id: stableEventId('order.tipped', 'o-1'), type: 'order.tipped', version: 1, occurredAt: '2030-01-01T12:00:00.000Z', data: { orderId: 'o-1', cents: 200 } });
    expect(Object.keys(tipped({ orderId: 'o-1', cents: 1 }))).toEqual(['id', 'type', 'version', 'occurredAt', 'data']);
  });

  it('parses its own events and refuses another type or bad data', () => {
    const event = tipped({ orderId: 'o-1', cents: 200 });
    expect(tipped.schema.parse(JSON.parse(JSON.stringify(event)))).toEqual(event);
    expect(tipped.schema.safeParse({ ...event, type: 'order.placed' }).success).toBe(false);
    expect(tipped.schema.safeParse({ ...event, data: { orderId: 'o-1', cents: 1.5 } }).success).toBe(false);
  });

  it('lists schemas by type', () => {
    expect(schemasOf(tipped)).toEqual({ 'order.tipped': tipped.schema });
  });
});
