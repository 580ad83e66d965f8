/**
 * OpenTelemetry traces for one process: one order's trace runs from the placeOrder request
 * through every consumer module to its subscription deliveries, the trace context carried in
 * Kafka message headers (kafka-headers.ts). Instrumented by hand at the product's own seams
 * (the API's request middleware, the event producer, the consumer runner's rounds, the
 * subscriptions' dispatch), not by monkeypatching libraries.
 *
 * Off by default (TRACING_ENABLED): nothing is started, OpenTelemetry's no-op API stays in
 * place, and every seam asks `activeTracer()` first and builds nothing (no span, no attribute
 * object, no header) while it answers null. On: a NodeTracerProvider with the W3C trace-context
 * propagator and AsyncLocalStorage context, exporting over OTLP/HTTP in batches.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** The instrumentation scope on every span the product makes. */
const SCOPE = 'food-ordering';

/** The process's tracer while tracing runs; null when off (the seams' one check). */
let current: Tracer | null = null;

/** The tracer to record with, or null when tracing is off: check it before building anything. */
export function activeTracer(): Tracer | null {
  return current;
}

export interface Tracing {
  /** Exports what is still buffered and stops recording (on process stop). */
  shutdown(): Promise<void>;
}

export interface TracingSetup {
  /** `service.name` of every span of this process. */
  readonly serviceName: string;
  readonly exporter: SpanExporter;
  /** Share of new traces recorded; a span with a parent follows its parent's decision. @default 1 */
  readonly sampleRatio?: number;
  /** Export in batches (production) or each span as it ends (tests read them at once). @default true */
  readonly batch?: boolean;
  /** Told when spans cannot be exported (a collector out of reach). @default ignored */
  readonly onExportError?: (error: unknown) => void;
}

/**
 * Registers a tracer provider for this process: the global OpenTelemetry API then records, and
 * `activeTracer()` answers. Once per process (OpenTelemetry's globals are set once); tests call
 * it with an in-memory exporter.
 */
export function installTracing(setup: TracingSetup): Tracing {
  const processor = setup.batch === false ? new SimpleSpanProcessor(setup.exporter) : new BatchSpanProcessor(setup.exporter);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: setup.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(setup.sampleRatio ?? 1) }),
    spanProcessors: [processor],
  });
  // W3C trace context only (no baggage): `traceparent`/`tracestate`, in HTTP and Kafka headers alike.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  if (setup.onExportError) setGlobalErrorHandler(setup.onExportError);
  current = provider.getTracer(SCOPE);
  return {
    async shutdown() {
      current = null;
      await provider.shutdown();
      trace.disable();
    },
  };
}

/**
 * Starts tracing for a process when the configuration says so (TRACING_ENABLED), exporting to
 * OTEL_EXPORTER_OTLP_ENDPOINT; returns null and changes nothing otherwise. `processName` names
 * the service unless OTEL_SERVICE_NAME does: `food-ordering-<processName>`.
 */
export function startTracing(config: Config, processName: string, log: Logger): Tracing | null {
  const { enabled, endpoint, serviceName, sampleRatio } = config.tracing;
  if (!enabled) return null;
  const url = `${endpoint}/v1/traces`;
  let lastWarnedAt = 0;
  const tracing = installTracing({
    serviceName: serviceName ?? `food-ordering-${processName}`,
    exporter: new OTLPTraceExporter({ url }),
    sampleRatio,
    // At most one line a minute: a collector away must not flood the log (spans are lost, requests are not).
    onExportError: (error) => {
      if (Date.now() - lastWarnedAt < 60_000) return;
      lastWarnedAt = Date.now();
      log.warn({ err: error, url }, 'traces could not be exported; spans are being dropped');
    },
  });
  log.info({ url, sampleRatio }, 'tracing on: spans exported over OTLP/HTTP');
  return {
    // A process stopping must not fail for its spans: what cannot be exported is logged and lost.
    shutdown: () => tracing.shutdown().catch((error: unknown) => log.warn({ err: error, url }, 'the last spans could not be exported')),
  };
}
