import { describe, expect, it } from 'vitest';
import { requireRole, requireViewer } from './guards';
import { canSeeOrder, type Viewer } from './viewer';

const viewer = (role: Viewer['role'], extra: Partial<Viewer> = {}): Viewer => ({
  id: 'v-1',
  role,
  restaurantId: role === 'RESTAURANT' ? 'r-1' : null,
  email: null,
  expiresAt: Math.floor(Date.now() / 1000) + 60,
  ...extra,
});

describe('guards', () => {
  it('UNAUTHENTICATED without a viewer, with the reason', () => {
    expect(() => requireViewer({ viewer: null, problem: 'the access token has expired' })).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', message: 'the access token has expired' }));
  });

  it('UNAUTHENTICATED once a socket\'s token expired', () => {
    expect(() => requireViewer({ viewer: viewer('CUSTOMER', { expiresAt: 1 }) })).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });

  it('FORBIDDEN for a role not allowed', () => {
    expect(() => requireRole({ viewer: viewer('CUSTOMER') }, ['ADMIN', 'RESTAURANT'], 'analytics')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(requireRole({ viewer: viewer('ADMIN') }, ['ADMIN'], 'analytics').role).toBe('ADMIN');
  });

  it('lets each role see only its orders', () => {
    const order = { customerId: 'v-1', restaurantId: 'r-1' };
    expect(canSeeOrder(viewer('CUSTOMER'), order)).toBe(true);
    expect(canSeeOrder(viewer('CUSTOMER', { id: 'other' }), order)).toBe(false);
    expect(canSeeOrder(viewer('RESTAURANT'), order)).toBe(true);
    expect(canSeeOrder(viewer('RESTAURANT', { restaurantId: 'r-2' }), order)).toBe(false);
    expect(canSeeOrder(viewer('ADMIN', { id: 'admin' }), order)).toBe(true);
  });
});
