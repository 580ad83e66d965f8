import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { orderCancelled } from '../events/order-events';
import { produceRequests, type OutgoingEvent } from './event-producer';

const config = loadConfig({ NODE_ENV: 'test', KAFKA_NAMESPACE: 'spec' });

const cancel = (orderId: string): OutgoingEvent => ({
  topic: 'order.cancelled',
  key: orderId,
  event: orderCancelled({ orderId, customerId: 'c', restaurantId: 'r', reason: null, cancelledBy: 'c', cancelledAt: '2030-01-01T00:00:00.000Z' }),
});

describe('produceRequests', () => {
  it('groups events by physical topic in one request, keeping their order and headers', () => {
    const [request, ...rest] = produceRequests([cancel('a'), cancel('b')], config);
    expect(rest).toEqual([]);
    expect(request).toHaveLength(1);
    expect(request![0]!.topic).toBe('spec.order.cancelled');
    expect(request![0]!.messages.map((m) => [m.key, m.headers['event-type']])).toEqual([
      ['a', 'order.cancelled'],
      ['b', 'order.cancelled'],
    ]);
  });

  it('splits what would exceed the size bound into several requests, none empty', () => {
    const events = Array.from({ length: 10 }, (_, i) => cancel(`o${i}`));
    const size = JSON.stringify(events[0]!.event).length;
    const requests = produceRequests(events, config, size * 3);
    expect(requests.map((r) => r[0]!.messages.length)).toEqual([3, 3, 3, 1]);
    expect(requests.flatMap((r) => r[0]!.messages.map((m) => m.key))).toEqual(events.map((e) => e.key));
    expect(produceRequests([], config)).toEqual([]);
  });
});
