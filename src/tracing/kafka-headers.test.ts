import { ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { extractTraceContext, extractTraceLinks, formatTraceParent, injectTraceHeaders, MAX_TRACE_LINKS, remoteSpanContext, TRACE_LINKS_HEADER } from './kafka-headers';

const spanContext = (n: number, sampled = true): SpanContext => ({
  traceId: n.toString(16).padStart(32, 'a'),
  spanId: n.toString(16).padStart(16, 'b'),
  traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
});

/** Headers as kafkajs hands them to a consumer: every value a Buffer. */
const asConsumed = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));

describe('the trace context in Kafka headers', () => {
  it('writes the span as a W3C traceparent and reads it back from Buffers as the remote parent', () => {
    const headers: Record<string, string> = { 'event-type': 'order.placed' };
    injectTraceHeaders(headers, trace.setSpanContext(ROOT_CONTEXT, spanContext(1)));
    expect(headers.traceparent).toBe(`00-${'a'.repeat(31)}1-${'b'.repeat(15)}1-01`);
    expect(headers['event-type']).toBe('order.placed');

    const parent = remoteSpanContext(asConsumed(headers));
    expect(parent).toEqual({ ...spanContext(1), isRemote: true });
  });

  it('keeps tracestate and the not-sampled decision (consumers follow the API\'s sampling)', () => {
    const headers: Record<string, string> = {};
    injectTraceHeaders(headers, trace.setSpanContext(ROOT_CONTEXT, spanContext(2, false)));
    expect(headers.traceparent).toMatch(/-00$/);
    const consumed = { ...asConsumed(headers), tracestate: Buffer.from('vendor=abc') };
    const parent = remoteSpanContext(consumed);
    expect(parent?.traceFlags).toBe(TraceFlags.NONE);
    expect(parent?.traceState?.get('vendor')).toBe('abc');
  });

  it('writes nothing for a context without a span, and reads no parent from headers without one', () => {
    const headers: Record<string, string> = { 'event-id': 'e1' };
    injectTraceHeaders(headers, ROOT_CONTEXT);
    expect(headers).toEqual({ 'event-id': 'e1' });
    expect(trace.getSpanContext(extractTraceContext(asConsumed(headers)))).toBeUndefined();
    expect(trace.getSpanContext(extractTraceContext(undefined))).toBeUndefined();
    expect(remoteSpanContext({ traceparent: Buffer.from('not a traceparent') })).toBeUndefined();
  });

  it('carries what a message aggregates as links: the latest MAX_TRACE_LINKS, malformed entries skipped', () => {
    const many = Array.from({ length: MAX_TRACE_LINKS + 8 }, (_, i) => spanContext(i + 1));
    const headers: Record<string, string> = {};
    injectTraceHeaders(headers, ROOT_CONTEXT, many);
    expect(headers.traceparent).toBeUndefined(); // a root of its own
    const links = extractTraceLinks(asConsumed(headers));
    expect(links.map((l) => l.context.spanId)).toEqual(many.slice(-MAX_TRACE_LINKS).map((c) => c.spanId));
    expect(links.every((l) => l.context.isRemote)).toBe(true);

    const mixed = { [TRACE_LINKS_HEADER]: Buffer.from(`${formatTraceParent(spanContext(7))}, junk,00-zz-yy-01`) };
    expect(extractTraceLinks(mixed).map((l) => l.context.traceId)).toEqual([spanContext(7).traceId]);
    expect(extractTraceLinks({})).toEqual([]);
    expect(extractTraceLinks(undefined)).toEqual([]);
  });

  it('reads HTTP request headers too (strings, as node:http gives them)', () => {
    const parent = remoteSpanContext({ traceparent: formatTraceParent(spanContext(9)) });
    expect(parent?.spanId).toBe(spanContext(9).spanId);
  });
});
