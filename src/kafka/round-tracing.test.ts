import { SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { orderCancelled } from '../events/order-events';
import { formatTraceParent } from '../tracing/kafka-headers';
import type { OutgoingEvent } from './event-producer';
import { startRoundTrace } from './round-tracing';

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('spec');

const sender = (n: string) => ({ traceId: n.repeat(32), spanId: n.repeat(16), traceFlags: TraceFlags.SAMPLED });
/** A message as kafkajs hands it over, its headers Buffers. */
const message = (offset: string, traceparent?: string): KafkaMessage =>
  ({ offset, key: Buffer.from(`order-${offset}`), value: null, timestamp: '0', attributes: 0, headers: { 'event-id': Buffer.from(`e${offset}`), ...(traceparent ? { traceparent: Buffer.from(traceparent) } : {}) } }) as KafkaMessage;

const emitted: OutgoingEvent = {
  topic: 'order.cancelled',
  key: 'order-1',
  event: orderCancelled({ orderId: 'order-1', customerId: 'c', restaurantId: 'r', reason: null, cancelledBy: 'c', cancelledAt: '2030-01-01T00:00:00.000Z' }),
};

describe('a round\'s spans', () => {
  it('gives each message of a batch its own span under its sender, linked to the round\'s root span; what it emits goes in that span', () => {
    exporter.reset();
    const messages = [message('1', formatTraceParent(sender('1'))), message('2', formatTraceParent(sender('2'))), message('3')];
    const round = startRoundTrace(tracer, { groupId: 'ns.transactions', topic: 'order.placed', partition: 4 }, messages);
    const out = round.emittedFor(messages[0]!, emitted);
    round.failed(messages[1]!, 'dead-lettered', new Error('not an order'));
    round.end();
    round.end(); // idempotent

    const spans = exporter.getFinishedSpans();
    const process = spans.find((s) => s.name === 'process order.placed')!;
    const handles = spans.filter((s) => s.name === 'handle order.placed');
    expect(spans).toHaveLength(4);
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.attributes).toMatchObject({ 'messaging.batch.message_count': 3, 'messaging.consumer.group.name': 'ns.transactions', 'messaging.destination.partition.id': '4' });

    expect(handles.map((h) => h.parentSpanContext?.spanId)).toEqual([sender('1').spanId, sender('2').spanId, undefined]);
    expect(handles.map((h) => h.spanContext().traceId)).toEqual([sender('1').traceId, sender('2').traceId, expect.not.stringMatching(/^(1|2)+$/)]);
    for (const h of handles) expect(h.links.map((l) => l.context.spanId)).toEqual([process.spanContext().spanId]);
    expect(handles.map((h) => h.attributes['messaging.message.id'])).toEqual(['e1', 'e2', 'e3']);

    expect(trace.getSpanContext(out.traceParent!)?.spanId).toBe(handles[0]!.spanContext().spanId);
    expect(round.spanContextOf(messages[2]!)?.spanId).toBe(handles[2]!.spanContext().spanId);
    expect(handles.map((h) => h.status.code)).toEqual([SpanStatusCode.UNSET, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    expect(trace.getSpanContext(round.context)?.spanId).toBe(process.spanContext().spanId);
  });

  it('leaves an event of a message it does not hold as it was, and marks the round failed when given up', () => {
    exporter.reset();
    const round = startRoundTrace(tracer, { groupId: 'g', topic: 'order.placed', partition: 0 }, [message('7')]);
    expect(round.emittedFor(message('8'), emitted)).toBe(emitted);
    expect(round.spanContextOf(message('8'))).toBeUndefined();
    round.end(new Error('MongoDB away'));
    const process = exporter.getFinishedSpans().find((s) => s.name === 'process order.placed');
    expect(process?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'round left uncommitted: MongoDB away' });
  });
});
