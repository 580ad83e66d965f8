import { describe, expect, it } from 'vitest';
import { canSeeOrder, type Viewer } from '../auth/viewer';
import { GLOBAL_SCOPE, restaurantScope } from '../domain/analytics';
import { analyticsScopeOf } from '../resolvers/analytics.resolver';
import {
  analyticsEventKeys,
  analyticsScopeKeys,
  EVERY_EVENT,
  followedOrderKeys,
  orderEventKeys,
  routingKey,
  SubscriberIndex,
  visibleOrderKeys,
  type OrderParties,
} from './subscriber-index';

const viewer = (role: Viewer['role'], id: string, restaurantId: string | null = null): Viewer => ({ id, role, restaurantId, email: null, expiresAt: 2e9 });

/** Every kind of caller, including ids that look like other kinds' keys. */
const VIEWERS: Viewer[] = [
  viewer('ADMIN', 'admin-1'),
  viewer('CUSTOMER', 'alice'),
  viewer('CUSTOMER', 'bob'),
  viewer('CUSTOMER', 'restaurant:pizza'),
  viewer('CUSTOMER', 'pizza'),
  viewer('RESTAURANT', 'pizza-staff', 'pizza'),
  viewer('RESTAURANT', 'sushi-staff', 'sushi'),
  viewer('RESTAURANT', 'alice', 'alice'),
  viewer('RESTAURANT', 'nowhere-staff', null),
];

const ORDERS: OrderParties[] = [
  { orderId: 'o-1', customerId: 'alice', restaurantId: 'pizza' },
  { orderId: 'o-2', customerId: 'bob', restaurantId: 'sushi' },
  { orderId: 'o-3', customerId: 'restaurant:pizza', restaurantId: 'alice' },
  { orderId: 'alice', customerId: 'pizza', restaurantId: 'restaurant:pizza' },
];

const SCOPES = [GLOBAL_SCOPE, restaurantScope('pizza'), restaurantScope('sushi'), restaurantScope('alice'), restaurantScope(''), 'pizza'];

/** Which viewers an index built from the key functions reaches with one event. */
function reached(subscribers: readonly [Viewer, string[]][], eventKeys: string[]): Viewer[] {
  const index = new SubscriberIndex<Viewer>();
  for (const [v, keys] of subscribers) index.add(keys, v);
  return index.matching(eventKeys);
}

describe('routing keys restate the authorization rules', () => {
  it('order events reach exactly the viewers canSeeOrder lets see them', () => {
    for (const order of ORDERS) {
      const expected = VIEWERS.filter((v) => canSeeOrder(v, order));
      const got = reached(VIEWERS.map((v) => [v, visibleOrderKeys(v)]), orderEventKeys(order));
      expect(new Set(got), `order ${JSON.stringify(order)}`).toEqual(new Set(expected));
    }
  });

  it('a CUSTOMER never receives another customer\'s order, whatever the ids look like', () => {
    for (const order of ORDERS) {
      for (const v of VIEWERS.filter((x) => x.role === 'CUSTOMER' && x.id !== order.customerId)) {
        expect(reached([[v, visibleOrderKeys(v)]], orderEventKeys(order))).toEqual([]);
      }
    }
  });

  it('a follower of one order gets that order\'s events only', () => {
    for (const order of ORDERS) {
      const got = reached(ORDERS.map((o) => [viewer('CUSTOMER', o.orderId), followedOrderKeys(o.orderId)]), orderEventKeys(order));
      expect(got.map((v) => v.id)).toEqual([order.orderId]);
    }
  });

  it('analytics snapshots reach exactly the viewers whose analyticsScopeOf is the snapshot\'s scope', () => {
    const subscribers = VIEWERS.filter((v) => v.role !== 'CUSTOMER').map((v): [Viewer, string[]] => [v, analyticsScopeKeys(analyticsScopeOf(v))]);
    for (const scope of SCOPES) {
      const expected = subscribers.filter(([v]) => analyticsScopeOf(v) === scope).map(([v]) => v);
      expect(new Set(reached(subscribers, analyticsEventKeys(scope))), `scope ${scope}`).toEqual(new Set(expected));
    }
    // An ADMIN sees the global figures, not each restaurant's.
    expect(reached([[VIEWERS[0]!, analyticsScopeKeys(analyticsScopeOf(VIEWERS[0]!))]], analyticsEventKeys(restaurantScope('pizza')))).toEqual([]);
  });

  it('every event carries the every-event key; no subscriber kind shares a key with another kind', () => {
    expect(orderEventKeys(ORDERS[0]!)).toContain(EVERY_EVENT);
    expect(analyticsEventKeys(GLOBAL_SCOPE)).toContain(EVERY_EVENT);
    expect(routingKey.customer('restaurant:x')).not.toBe(routingKey.restaurant('x'));
    expect(new Set([routingKey.customer('a'), routingKey.restaurant('a'), routingKey.order('a'), routingKey.scope('a'), EVERY_EVENT]).size).toBe(5);
  });
});

describe('SubscriberIndex', () => {
  it('delivers only to the listeners under the event\'s keys', () => {
    const index = new SubscriberIndex<string>();
    index.add(['a'], 'A');
    index.add(['b'], 'B');
    index.add(['c'], 'C');
    expect(index.matching(['a', 'c', 'zzz'])).toEqual(['A', 'C']);
    expect(index.matching([])).toEqual([]);
  });

  it('calls a listener once even when it matches several of the event\'s keys', () => {
    const index = new SubscriberIndex<string>();
    index.add(['a', 'b', 'a'], 'AB');
    index.add(['b'], 'B');
    const calls: string[] = [];
    expect(index.deliver(['a', 'b', 'b'], (l) => calls.push(l))).toBe(2);
    expect(calls.sort()).toEqual(['AB', 'B']);
  });

  it('a listener with no keys receives nothing', () => {
    const index = new SubscriberIndex<string>();
    index.add([], 'nobody');
    expect(index.matching([EVERY_EVENT])).toEqual([]);
    expect(index.size).toBe(1);
  });

  it('removal takes a listener off every key, once, and drops empty keys', () => {
    const index = new SubscriberIndex<string>();
    const remove = index.add(['a', 'b'], 'AB');
    index.add(['b'], 'B');
    expect(index.keyCount).toBe(2);
    remove();
    remove();
    expect(index.matching(['a', 'b'])).toEqual(['B']);
    expect(index.keyCount).toBe(1);
    expect(index.size).toBe(1);
  });

  it('a listener removed by another during delivery is not called; the rest still are', () => {
    const index = new SubscriberIndex<() => void>();
    const calls: string[] = [];
    let removeSecond = (): void => undefined;
    index.add(['k'], () => {
      calls.push('first');
      removeSecond();
    });
    removeSecond = index.add(['k'], () => calls.push('second'));
    index.add(['k'], () => calls.push('third'));
    index.deliver(['k'], (l) => l());
    expect(calls).toEqual(['first', 'third']);
  });

  it('looks up, not scans: delivery to one of many thousand keys touches one listener', () => {
    const index = new SubscriberIndex<number>();
    for (let i = 0; i < 20_000; i += 1) index.add([routingKey.customer(`c${i}`)], i);
    let calls = 0;
    index.deliver(orderEventKeys({ orderId: 'o', customerId: 'c777', restaurantId: 'r' }), () => (calls += 1));
    expect(calls).toBe(1);
  });
});
