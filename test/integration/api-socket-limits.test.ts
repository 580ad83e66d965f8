/**
 * WebSocket limits against a real API over graphql-ws: operations per socket and subscribes
 * per minute (the refused operation gets RATE_LIMITED, the socket stays open), sockets per
 * user open at once and opened per minute, anonymous attempts per address (closed 4429), a
 * slow reader (closed 4413), a per-operation token's expiry (its stream ends UNAUTHENTICATED),
 * and orderStatusChanged(orderId) reading the store at most once.
 */
import type { FormattedExecutionResult } from 'graphql';
import type { Client } from 'graphql-ws';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiServer } from '../../src/http/api-server';
import { OrderStatusChangedDocument, type OrderStatusChangedSubscription } from '../generated/graphql';
import { connectRaw, startApiWorld, subscribe, tokenFor, untilLive, wsClient, type ApiWorld, type SubscriptionProbe } from '../support/api-harness';
import { statusEvent } from '../support/order-events.fixture';
import { testConfig, uniqueName } from '../support/services';

type Probe = SubscriptionProbe<OrderStatusChangedSubscription>;
let world: ApiWorld;
let slow: ApiServer;
const clients: Client[] = [];
const client = (url: string, token: string | null) => {
  const c = wsClient(url, token);
  clients.push(c);
  return c;
};
const limits = {
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '2',
  RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '5',
  WS_MAX_SOCKETS_PER_USER: '2',
  RATE_LIMIT_SOCKETS_PER_MINUTE: '4',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3',
};
const customer = () => {
  const id = uniqueName('customer');
  return { id, token: tokenFor({ sub: id, role: 'CUSTOMER' }) };
};
const sentinel = (customerId: string) => () => world.events.publish([statusEvent({ orderId: uniqueName('sentinel'), customerId }, 'CONFIRMED', 'PLACED')]);
const errorCode = (probe: Probe) => {
  const [errors] = probe.errors as [{ extensions?: { code?: string; retryAfterSeconds?: number } }[]];
  return errors?.[0]?.extensions;
};

/** A raw graphql-ws socket that stays open once acknowledged. */
function openSocket(url: string, token: string): { acknowledged: Promise<boolean>; closed: Promise<{ code: number; reason: string }>; socket: WebSocket } {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let ack: (v: boolean) => void = () => undefined;
  const acknowledged = new Promise<boolean>((resolve) => (ack = resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => {
      ack(false);
      resolve({ code, reason: String(reason) });
    }),
  );
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  socket.on('message', (data) => {
    if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') ack(true);
  });
  return { acknowledged, closed, socket };
}

beforeAll(async () => {
  world = await startApiWorld('api-socket-limits', {}, limits);
  const base = { KAFKA_NAMESPACE: world.config.kafka.namespace, MONGO_URL: world.config.mongo.url, JWT_SECRET: world.config.jwtSecret };
  slow = await world.startAnotherInstance({}, testConfig({ ...base, WS_MAX_BUFFERED_BYTES: '4096', WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '40' }));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await world?.stop();
});

describe('operations on one socket', () => {
  it('refuses one more than WS_MAX_SUBSCRIPTIONS_PER_SOCKET with RATE_LIMITED and keeps the socket and its other operations', async () => {
    const alice = customer();
    const socket = client(world.api.websocketUrl, await alice.token);
    const running: Probe[] = [subscribe(socket, OrderStatusChangedDocument, {}), subscribe(socket, OrderStatusChangedDocument, {})];
    await untilLive(running, sentinel(alice.id));
    const refused: Probe = subscribe(socket, OrderStatusChangedDocument, {});
    await refused.done();
    expect(errorCode(refused)).toMatchObject({ code: 'RATE_LIMITED' });
    const order = { orderId: uniqueName('order'), customerId: alice.id };
    await world.events.publish([statusEvent(order, 'CONFIRMED', 'PLACED')]);
    for (const probe of running) {
      while (!probe.results.some((r) => r.data?.orderStatusChanged.orderId === order.orderId)) await probe.waitFor(probe.results.length + 1);
    }
    running.forEach((p) => p.close());
  });

  it('refuses subscribes past RATE_LIMIT_SUBSCRIBES_PER_MINUTE with RATE_LIMITED and retryAfterSeconds; the socket stays open', async () => {
    const bob = customer();
    const socket = client(world.api.websocketUrl, await bob.token);
    const keeper: Probe = subscribe(socket, OrderStatusChangedDocument, {});
    await untilLive([keeper], sentinel(bob.id));
    for (let i = 0; i < 4; i++) {
      const brief: Probe = subscribe(socket, OrderStatusChangedDocument, { orderId: uniqueName('none') });
      await brief.done();
      expect(brief.results[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    const refused: Probe = subscribe(socket, OrderStatusChangedDocument, {});
    await refused.done();
    const extensions = errorCode(refused);
    expect(extensions?.code).toBe('RATE_LIMITED');
    expect(extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    const before = keeper.results.length;
    await sentinel(bob.id)();
    await keeper.waitFor(before + 1);
    keeper.close();
  });
});

describe('sockets per user and per address', () => {
  it('closes one more than WS_MAX_SOCKETS_PER_USER open at once with 4429; closing one frees its place', async () => {
    const carol = customer();
    const token = await carol.token;
    const first = openSocket(world.api.websocketUrl, token);
    const second = openSocket(world.api.websocketUrl, token);
    expect(await first.acknowledged).toBe(true);
    expect(await second.acknowledged).toBe(true);
    const third = openSocket(world.api.websocketUrl, token);
    expect(await third.closed).toMatchObject({ code: 4429, reason: expect.stringMatching(/too many open sockets/) });
    first.socket.close(1000);
    await first.closed;
    const fourth = openSocket(world.api.websocketUrl, token);
    expect(await fourth.acknowledged).toBe(true);
    second.socket.close(1000);
    fourth.socket.close(1000);
  });

  it('closes connections past RATE_LIMIT_SOCKETS_PER_MINUTE with 4429 saying when to retry', async () => {
    const dave = customer();
    const token = { authorization: `Bearer ${await dave.token}` };
    for (let i = 0; i < 4; i++) expect(await connectRaw(world.api.websocketUrl, token)).toMatchObject({ acknowledged: true });
    expect(await connectRaw(world.api.websocketUrl, token)).toMatchObject({ acknowledged: false, code: 4429, reason: expect.stringMatching(/try again in \d+ s/) });
  });

  it('counts attempts without a valid token per address: 4401 within the budget, 4429 past it', async () => {
    for (let i = 0; i < 3; i++) expect(await connectRaw(world.api.websocketUrl, {})).toMatchObject({ code: 4401 });
    expect(await connectRaw(world.api.websocketUrl, { authorization: 'Bearer forged' })).toMatchObject({ code: 4429 });
  });
});

describe('a slow reader', () => {
  it('is closed with 4413 once more than WS_MAX_BUFFERED_BYTES wait for it', async () => {
    const erin = customer();
    const socket = new WebSocket(slow.websocketUrl, 'graphql-transport-ws');
    const closed = new Promise<{ code: number }>((resolve) => socket.on('close', (code) => resolve({ code })));
    let received = 0;
    await new Promise<void>((resolve) => {
      socket.on('open', async () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await erin.token}` } })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string };
        if (message.type === 'connection_ack') resolve();
        if (message.type === 'next') received++;
      });
    });
    const query = 'subscription { orderStatusChanged { orderId customerId restaurantId status at reason } }';
    for (let i = 0; i < 40; i++) socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query } }));
    const deadline = Date.now() + 20_000;
    while (received < 40) {
      if (Date.now() > deadline) throw new Error('the subscriptions did not go live');
      await world.events.publish([statusEvent({ orderId: uniqueName('sentinel'), customerId: erin.id }, 'CONFIRMED', 'PLACED')]);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Stop reading; publish far more than the kernel's buffers hold; then read again.
    socket.pause();
    const events = 600;
    for (let i = 0; i < events; i += 100) {
      await world.events.publish(Array.from({ length: 100 }, () => statusEvent({ orderId: uniqueName('flood'), customerId: erin.id }, 'CONFIRMED', 'PLACED')));
    }
    await new Promise((r) => setTimeout(r, 3000));
    socket.resume();
    expect(await closed).toEqual({ code: 4413 });
    expect(received).toBeLessThan(40 * events);
  }, 60_000);
});

describe('a per-operation token', () => {
  it('ends its subscription with UNAUTHENTICATED at the first event after it expires; the socket stays', async () => {
    const frank = customer();
    const socket = client(world.api.websocketUrl, await frank.token);
    const shortLived = await tokenFor({ sub: frank.id, role: 'CUSTOMER' }, { expiresInSeconds: 4 });
    const results: FormattedExecutionResult<OrderStatusChangedSubscription, unknown>[] = [];
    let ended = false;
    socket.subscribe<OrderStatusChangedSubscription>(
      { query: 'subscription { orderStatusChanged { orderId status } }', extensions: { headers: { authorization: `Bearer ${shortLived}` } } },
      { next: (r) => void results.push(r as FormattedExecutionResult<OrderStatusChangedSubscription, unknown>), error: () => (ended = true), complete: () => (ended = true) },
    );
    const probe = { results, errors: [], waitFor: async () => results, done: async () => undefined, close: () => undefined } as unknown as Probe;
    await untilLive([probe], sentinel(frank.id));
    const expiresAt = JSON.parse(Buffer.from(shortLived.split('.')[1]!, 'base64url').toString()).exp as number;
    while (Date.now() <= expiresAt * 1000) await new Promise((r) => setTimeout(r, 100));
    const late = { orderId: uniqueName('late'), customerId: frank.id };
    const deadline = Date.now() + 10_000;
    while (!ended) {
      if (Date.now() > deadline) throw new Error(`the subscription went on: ${JSON.stringify(results.slice(-2))}`);
      await world.events.publish([statusEvent(late, 'CONFIRMED', 'PLACED')]);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(results.some((r) => r.data?.orderStatusChanged.orderId === late.orderId)).toBe(false);
    expect(results.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The socket's own token is still good: another subscription on it runs.
    const after: Probe = subscribe(socket, OrderStatusChangedDocument, {});
    await untilLive([after], sentinel(frank.id));
    after.close();
  }, 30_000);
});

describe('orderStatusChanged(orderId)', () => {
  it('reads the store at most once when subscribing, even for an order that does not exist', async () => {
    const reads: string[] = [];
    mongoose.set('debug', (collection: string, method: string) => {
      if (collection.startsWith('orders') && /^find/.test(method)) reads.push(`${collection}.${method}`);
    });
    try {
      const grace = customer();
      const probe: Probe = subscribe(client(world.api.websocketUrl, await grace.token), OrderStatusChangedDocument, { orderId: uniqueName('nowhere') });
      await probe.done();
      expect(probe.results[0]?.errors?.[0]?.extensions?.code ?? errorCode(probe)?.code).toBe('NOT_FOUND');
      expect(reads).toHaveLength(1);
    } finally {
      mongoose.set('debug', false);
    }
  });
});
