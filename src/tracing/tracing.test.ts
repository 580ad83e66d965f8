import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { activeTracer, startTracing } from './tracing';

const log = createLogger('tracing-spec', { level: 'silent' });

/** A stand-in OTLP/HTTP collector: records each request's path and body. */
async function collector(): Promise<{ url: string; received: { path: string; body: string }[]; close(): Promise<void> }> {
  const received: { path: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('startTracing', () => {
  it('changes nothing when TRACING_ENABLED is off (the default)', () => {
    expect(startTracing(loadConfig({ NODE_ENV: 'test' }), 'api', log)).toBeNull();
    expect(activeTracer()).toBeNull();
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('on: records in the active context and exports to <endpoint>/v1/traces under the process\'s service name', async () => {
    const otlp = await collector();
    try {
      const tracing = startTracing(loadConfig({ NODE_ENV: 'test', TRACING_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: `${otlp.url}/` }), 'transactions', log);
      const tracer = activeTracer();
      expect(tracing).not.toBeNull();
      expect(tracer).not.toBeNull();
      const span = tracer!.startSpan('handle order.placed');
      // AsyncLocalStorage context: the span stays active across an await.
      await context.with(trace.setSpan(context.active(), span), async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        expect(trace.getActiveSpan()).toBe(span);
      });
      span.end();
      await tracing!.shutdown();
      expect(activeTracer()).toBeNull();
      expect(otlp.received.map((r) => r.path)).toEqual(['/v1/traces']);
      expect(otlp.received[0]!.body).toContain('food-ordering-transactions');
      expect(otlp.received[0]!.body).toContain('handle order.placed');
    } finally {
      await otlp.close();
    }
  });
});
