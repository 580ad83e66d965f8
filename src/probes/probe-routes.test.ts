import { afterEach, describe, expect, it } from 'vitest';
import { startProbeListener, type ProbeListener } from './probe-listener';
import { probeRoutes, type ProbeCheck } from './probe-routes';

let listener: ProbeListener | undefined;
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

async function get(path: string, checks: ProbeCheck[], stopping = false): Promise<{ status: number; body: unknown }> {
  listener = await startProbeListener({ host: '127.0.0.1', port: 0, handlers: [probeRoutes(checks, () => stopping)] });
  const response = await fetch(`${listener.url}${path}`);
  return { status: response.status, body: await response.json() };
}

const up = (name: string): ProbeCheck => ({ name, check: async () => true });

describe('GET /readyz', () => {
  it('is 200 {status:"ok"} when every check answers', async () => {
    expect(await get('/readyz', [up('mongo'), up('kafka')])).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('is 503 naming what is down: false, a reason, a rejection, or no answer within 2 s', async () => {
    const answer = await get('/readyz', [
      { name: 'mongo', check: async () => false },
      { name: 'consumer', check: async () => 'not joined yet' },
      { name: 'kafka', check: () => Promise.reject(new Error('no brokers')) },
      { name: 'slow', check: () => new Promise<boolean>(() => undefined) },
    ]);
    expect(answer).toEqual({
      status: 503,
      body: { status: 'unavailable', down: ['mongo', 'consumer: not joined yet', 'kafka: no brokers', 'slow: no answer within 2000 ms'] },
    });
  });

  it('is 503 while the process is stopping, whatever the checks say', async () => {
    expect(await get('/readyz', [up('mongo')], true)).toEqual({ status: 503, body: { status: 'unavailable', down: ['stopping'] } });
  });

  it('answers under its older name /health too', async () => {
    expect(await get('/health', [up('mongo')])).toMatchObject({ status: 200 });
  });
});

describe('GET /livez', () => {
  it('is 200 without asking any dependency, even while they are down or the process stops', async () => {
    let asked = 0;
    const down: ProbeCheck = { name: 'kafka', check: async () => (asked++, false) };
    expect(await get('/livez', [down], true)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(asked).toBe(0);
  });
});

describe('the probe listener', () => {
  it('answers 404 to paths no handler takes', async () => {
    expect(await get('/metrics', [up('mongo')])).toMatchObject({ status: 404 });
  });
});
