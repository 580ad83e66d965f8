import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
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

  it('puts each event\'s own trace context in its own headers, and none when it has none (tracing off)', () => {
    const spanOf = (n: string) => trace.setSpanContext(ROOT_CONTEXT, { traceId: n.repeat(32), spanId: n.repeat(16), traceFlags: TraceFlags.SAMPLED });
    const [request] = produceRequests([{ ...cancel('a'), traceParent: spanOf('1') }, cancel('b'), { ...cancel('c'), traceParent: spanOf('2') }], config);
    const headers = request![0]!.messages.map((m) => m.headers);
    expect(headers.map((h) => h.traceparent)).toEqual([`00-${'1'.repeat(32)}-${'1'.repeat(16)}-01`, undefined, `00-${'2'.repeat(32)}-${'2'.repeat(16)}-01`]);
    expect(Object.keys(headers[1]!)).toEqual(['event-type', 'event-id']);
  });
});
