import { describe, expect, it } from 'vitest';
import type { OrderStatus } from '../domain/order-status';
import { orderPlaced, orderStatusChanged } from '../events/order-events';
import { projectPlaced, projectStatusChange, type StoredOrder } from './orders-projector.consumer';

const placedAt = '2030-01-01T12:00:00.000Z';
const placed = orderPlaced({
  orderId: 'ord-1',
  customerId: 'cust-1',
  customerEmail: null,
  restaurantId: 'trattoria',
  items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 1, unitPriceCents: 850, lineTotalCents: 850 }],
  totalCents: 850,
  currency: 'EUR',
  paymentToken: 'tok_visa',
  deliveryAddress: '1 Main St',
  idempotencyKey: null,
  placedAt,
});
const change = (status: OrderStatus, at = '2030-01-01T12:00:05.000Z') =>
  orderStatusChanged({ orderId: 'ord-1', customerId: 'cust-1', restaurantId: 'trattoria', status, previousStatus: null, reason: null, at });
const stored = (status: OrderStatus, detailsKnown = true): StoredOrder => ({ _id: 'ord-1', status, detailsKnown });

describe('projectPlaced', () => {
  it('creates an order first seen by its placement, PLACED at its placement time', () => {
    expect(projectPlaced(placed, null)).toMatchObject({ kind: 'create-placed', placedAt: new Date(placedAt), details: { totalCents: 850, deliveryAddress: '1 Main St' } });
  });

  it('fills in the details of an order a status change created, without touching its status', () => {
    const effects = projectPlaced(placed, stored('CONFIRMED', false));
    expect(effects).toMatchObject({ kind: 'fill-details', placedAt: new Date(placedAt) });
    expect(effects).not.toHaveProperty('status');
  });

  it('ignores a repeated placement', () => {
    expect(projectPlaced(placed, stored('CONFIRMED')).kind).toBe('ignore');
  });
});

describe('projectStatusChange', () => {
  it('applies a legal change, conditional on the status it was decided from', () => {
    expect(projectStatusChange(change('CONFIRMED'), stored('PLACED'))).toMatchObject({ kind: 'apply-change', expectedStatus: 'PLACED', change: { status: 'CONFIRMED' } });
    expect(projectStatusChange(change('PREPARING'), stored('CONFIRMED'))).toMatchObject({ kind: 'apply-change', expectedStatus: 'CONFIRMED' });
  });

  it('creates an unknown order at PLACED when the change is legal from there', () => {
    expect(projectStatusChange(change('CONFIRMED'), null)).toMatchObject({ kind: 'create-changed', customerId: 'cust-1', change: { status: 'CONFIRMED' } });
    expect(projectStatusChange(change('DELIVERED'), null).kind).toBe('ignore');
  });

  it('ignores duplicates, late arrivals and changes after a terminal status', () => {
    expect(projectStatusChange(change('CONFIRMED'), stored('CONFIRMED')).kind).toBe('ignore');
    expect(projectStatusChange(change('CONFIRMED'), stored('PREPARING')).kind).toBe('ignore');
    expect(projectStatusChange(change('CONFIRMED'), stored('CANCELLED'))).toMatchObject({ kind: 'ignore', reason: 'CONFIRMED is not a next status of CANCELLED' });
    expect(projectStatusChange(change('PLACED'), null).kind).toBe('ignore');
  });
});
