import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address';

describe('clientAddress', () => {
  it('is the connection\'s own address without trusted hops, whatever the header says', () => {
    expect(clientAddress('::ffff:192.0.2.1', '203.0.113.9', 0)).toBe('192.0.2.1');
    expect(clientAddress('::1', undefined, 0)).toBe('::1');
  });

  it('with one trusted hop, is the rightmost X-Forwarded-For entry (what the proxy saw)', () => {
    expect(clientAddress('10.0.0.2', '203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', 'forged, 1.2.3.4, 203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', ['1.2.3.4', '203.0.113.9'], 1)).toBe('203.0.113.9');
  });

  it('with two trusted hops, is the entry the first proxy appended', () => {
    expect(clientAddress('10.0.0.2', 'forged, 203.0.113.9, 10.0.0.1', 2)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', '203.0.113.9', 2)).toBe('203.0.113.9');
  });

  it('falls back to the connection when the header is missing or empty', () => {
    expect(clientAddress('10.0.0.2', undefined, 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', ' , ', 1)).toBe('10.0.0.2');
  });
});
