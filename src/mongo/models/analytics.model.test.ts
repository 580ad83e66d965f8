import { describe, expect, it } from 'vitest';
import { emptyAnalytics, foldAnalytics } from '../../domain/analytics';
import { analyticsFieldsOf, analyticsStateOf, type AnalyticsDocument } from './analytics.model';

describe('analytics documents', () => {
  it('store a state and read it back unchanged, keys with dots included', () => {
    const state = foldAnalytics(
      foldAnalytics(emptyAnalytics('global'), { kind: 'placed', restaurantId: 'r.1', items: [{ menuItemId: 'pizza.large', name: 'Large pizza', quantity: 2 }] }, { topic: 'order.placed', partition: 4, offset: 10 }, '2030-01-01T12:00:00.000Z'),
      { kind: 'confirmed', restaurantId: 'r.1', totalCents: 2000 },
      { topic: 'order.confirmed', partition: 1, offset: 3 },
      '2030-01-01T12:00:01.000Z',
    );
    const doc: AnalyticsDocument = { _id: 'global', revision: 2, ...analyticsFieldsOf(state) };
    expect(doc.applied).toEqual([{ partition: 'order.placed:4', offset: 10 }, { partition: 'order.confirmed:1', offset: 3 }]);
    expect(analyticsStateOf('global', doc)).toEqual(state);
  });

  it('read a missing scope, or missing figures, as zero', () => {
    expect(analyticsStateOf('restaurant:r', null)).toEqual(emptyAnalytics('restaurant:r'));
    expect(analyticsStateOf('global', { ordersPlaced: 3 })).toEqual({ ...emptyAnalytics('global'), ordersPlaced: 3 });
  });
});
