import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsRoute } from './metrics-route';
import { consumerCounters, processMetrics } from './process-metrics';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function serve(registry: Registry): Promise<string> {
  const route = metricsRoute(registry);
  server = createServer((req, res) => {
    if (!route(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('GET /metrics', () => {
  it("answers the registry in Prometheus' text format and leaves other paths", async () => {
    const registry = new Registry();
    new Counter({ name: 'orders_seen_total', help: 'test', registers: [registry] }).inc(3);
    const base = await serve(registry);
    const answer = await fetch(`${base}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    expect(await answer.text()).toContain('orders_seen_total 3');
    expect((await fetch(`${base}/metricsz`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});

describe('consumerCounters', () => {
  it('counts per module and topic with the children bound once per topic', async () => {
    const counters = consumerCounters('unit-module');
    expect(counters('order.placed')).toBe(counters('order.placed'));
    counters('order.placed').processed.inc(2);
    counters('order.placed').processed.inc();
    counters('payment.processed').deadLettered.inc();
    const text = await processMetrics().registry.metrics();
    expect(text).toContain('consumer_events_processed_total{module="unit-module",topic="order.placed"} 3');
    expect(text).toContain('consumer_events_dead_lettered_total{module="unit-module",topic="payment.processed"} 1');
  });
});
