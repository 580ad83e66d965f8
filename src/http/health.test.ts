import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { healthRoute, type HealthCheck } from './health';

async function probe(checks: HealthCheck[], stopping = false): Promise<{ status: number; body: unknown }> {
  const app = express();
  app.get('/health', healthRoute(checks, () => stopping));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`);
    return { status: response.status, body: await response.json() };
  } finally {
    server.close();
  }
}

describe('GET /health', () => {
  it('is 200 {status:"ok"} when every dependency answers', async () => {
    expect(await probe([{ name: 'mongo', check: async () => true }, { name: 'kafka', check: async () => true }])).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('is 503 naming what is down: false, a rejection, or no answer within 2 s', async () => {
    const answer = await probe([
      { name: 'mongo', check: async () => false },
      { name: 'kafka', check: () => Promise.reject(new Error('no brokers')) },
      { name: 'slow', check: () => new Promise<boolean>(() => undefined) },
    ]);
    expect(answer).toEqual({ status: 503, body: { status: 'unavailable', down: ['mongo', 'kafka', 'slow'] } });
  });

  it('is 503 while the process is stopping', async () => {
    expect(await probe([{ name: 'mongo', check: async () => true }], true)).toMatchObject({ status: 503 });
  });
});
