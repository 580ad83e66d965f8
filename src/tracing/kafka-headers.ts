/**
 * The trace context in Kafka message headers (and HTTP request headers): W3C `traceparent` and
 * `tracestate`, written by the event producer and read by the consumer runner and the
 * subscriptions. A message that stands for many (analytics.updated, a snapshot of many orders'
 * events) also names the spans it aggregates in `trace-links`: comma-separated traceparent
 * values, which its readers turn into span links rather than a parent. Headers pass through
 * dead-lettering and redrive byte for byte, so a redriven message continues its trace.
 */
import { ROOT_CONTEXT, trace, TraceFlags, type Context, type Link, type SpanContext, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { parseTraceParent, W3CTraceContextPropagator } from '@opentelemetry/core';

export const TRACE_LINKS_HEADER = 'trace-links';

/**
 * At most this many links ride on one message (each ~55 bytes): enough to find the orders a
 * snapshot counted, bounded however many it folded.
 */
export const MAX_TRACE_LINKS = 32;

/** Header values as kafkajs hands them (Buffer from the broker, string as produced) or as node:http does. */
type HeaderValue = Buffer | string | readonly (Buffer | string)[] | undefined;
export type HeaderCarrier = Readonly<Record<string, HeaderValue>>;

const asText = (value: Buffer | string): string => (typeof value === 'string' ? value : value.toString('utf8'));

const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(asText) : asText(value as Buffer | string);
  },
};

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => void (carrier[key] = value),
};

/** Stateless; the same propagator the process registers globally (tracing.ts). */
const w3c = new W3CTraceContextPropagator();

/** PURE: a span context as a traceparent value (`00-<trace id>-<span id>-<flags>`). */
export function formatTraceParent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${(spanContext.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

/**
 * Writes `context`'s span into `headers` (traceparent, and tracestate when it has one), and the
 * links, at most MAX_TRACE_LINKS (the latest), into `trace-links`. A context without a span
 * writes nothing.
 */
export function injectTraceHeaders(headers: Record<string, string>, context: Context, links?: readonly SpanContext[]): void {
  w3c.inject(context, headers, setter);
  if (links && links.length > 0) headers[TRACE_LINKS_HEADER] = links.slice(-MAX_TRACE_LINKS).map(formatTraceParent).join(',');
}

/** The context a message or request continues: its traceparent's span as a remote parent, or none (a new trace). */
export function extractTraceContext(headers: HeaderCarrier | undefined): Context {
  return headers ? w3c.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
}

/** The span a message's `traceparent` names, or undefined. */
export function remoteSpanContext(headers: HeaderCarrier | undefined): SpanContext | undefined {
  return trace.getSpanContext(extractTraceContext(headers));
}

/** The spans a message aggregates (`trace-links`), as links; malformed entries are skipped. */
export function extractTraceLinks(headers: HeaderCarrier | undefined): Link[] {
  const raw = headers ? getter.get(headers, TRACE_LINKS_HEADER) : undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  if (!text) return [];
  const links: Link[] = [];
  for (const entry of text.split(',').slice(0, MAX_TRACE_LINKS)) {
    const context = parseTraceParent(entry.trim());
    if (context) links.push({ context: { ...context, isRemote: true } });
  }
  return links;
}
