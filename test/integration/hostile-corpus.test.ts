/**
 * The hostile corpus (issue 8): every case of test/hostile/cases/*.json is sent as a hostile
 * client would, and must get its documented code; afterwards the API still answers /livez and
 * a normal query, and nothing was written: the product's topics end at the same offsets and its
 * collections hold as many documents as before (rate-limit counters aside). The summary (class
 * → cases → codes) is printed and written to .local/hostile/summary.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiServer } from '../../src/http/api-server';
import { physicalTopic, TOPICS } from '../../src/events/topics';
import { buildToken, expand, loadCorpus, type HostileCase } from '../hostile/corpus';
import { seedOrder, startApiWorld, TEST_JWT_SECRET, type ApiWorld } from '../support/api-harness';
import { testConfig } from '../support/services';

/** Generous everywhere (order of cases matters little), tight only on `strict`, a tiny buffer on `slow`. */
const LIMITS = {
  main: {
    RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: '10000',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '10000',
    RATE_LIMIT_SOCKETS_PER_MINUTE: '10000',
    RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '10000',
    WS_MAX_SOCKETS_PER_USER: '1000',
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '100',
  },
  strict: {
    RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: '2',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3',
    RATE_LIMIT_SOCKETS_PER_MINUTE: '3',
    RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '5',
    WS_MAX_SOCKETS_PER_USER: '2',
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '2',
  },
  slow: {
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '10000',
    RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '10000',
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '1000',
    WS_MAX_BUFFERED_BYTES: '4096',
  },
} as const;

const corpus = loadCorpus();
let world: ApiWorld;
let admin: Admin;
const instances: Record<string, ApiServer> = {};
const vars: Record<string, string> = {};
const outcomes: { class: string; name: string; got: string }[] = [];
let before: Record<string, number>;

/** End offsets of every product topic and document counts of every collection but rate_limits. */
async function snapshot(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const existing = new Set(await admin.listTopics());
  for (const topic of Object.values(TOPICS)) {
    const physical = physicalTopic(world.config, topic);
    counts[`topic ${topic}`] = existing.has(physical) ? (await admin.fetchTopicOffsets(physical)).reduce((sum, p) => sum + Number(p.high), 0) : 0;
  }
  for (const { name } of await world.mongo.db!.listCollections().toArray()) {
    // An empty collection appearing (FerretDB creates one on a first read) holds nothing written.
    const count = name === 'rate_limits' ? 0 : await world.mongo.db!.collection(name).countDocuments();
    if (count > 0) counts[`collection ${name}`] = count;
  }
  return counts;
}

beforeAll(async () => {
  world = await startApiWorld('hostile-corpus', {}, LIMITS.main);
  const base = { KAFKA_NAMESPACE: world.config.kafka.namespace, MONGO_URL: world.config.mongo.url, JWT_SECRET: TEST_JWT_SECRET };
  instances.main = world.api;
  instances.strict = await world.startAnotherInstance({}, testConfig({ ...base, ...LIMITS.strict }));
  instances.slow = await world.startAnotherInstance({}, testConfig({ ...base, ...LIMITS.slow }));
  console.log(`hostile corpus: ${corpus.length} cases; limits used: ${JSON.stringify(LIMITS)}`);
  // Real targets for the cross-tenant cases: orders of another customer at another restaurant.
  const victim = { customerId: 'victim-customer', restaurantId: 'pizzeria-napoli' };
  await seedOrder(world.orders, { _id: 'victim-order-placed', status: 'PLACED', ...victim });
  await seedOrder(world.orders, { _id: 'victim-order-confirmed', status: 'CONFIRMED', ...victim });
  Object.assign(vars, { VICTIM_ORDER: 'victim-order-placed', VICTIM_CONFIRMED_ORDER: 'victim-order-confirmed', VICTIM_CUSTOMER: victim.customerId, VICTIM_RESTAURANT: victim.restaurantId });
  admin = world.kafka.admin();
  await admin.connect();
  before = await snapshot();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await world?.stop();
}, 60_000);

async function authorizationOf(c: HostileCase): Promise<unknown> {
  if (c.authorization !== undefined) return expand(c.authorization, vars);
  return c.token === undefined ? undefined : `Bearer ${await buildToken(c.token, TEST_JWT_SECRET)}`;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: unknown; errors?: { extensions?: { code?: string; retryAfterSeconds?: number } }[] } | null;
}

async function sendHttp(c: HostileCase): Promise<Answer> {
  const api = instances[c.instance ?? 'main']!;
  const url = new URL(c.path ?? '/graphql', api.graphqlUrl).toString();
  const authorization = await authorizationOf(c);
  const headers: Record<string, string> = {};
  if (c.contentType !== null) headers['content-type'] = c.contentType ?? 'application/json';
  if (typeof authorization === 'string') headers.authorization = authorization;
  Object.assign(headers, expand(c.headers ?? {}, vars));
  const body = c.json !== undefined ? JSON.stringify(expand(c.json, vars)) : c.body !== undefined ? String(expand(c.body, vars)) : undefined;
  let answer: Answer | undefined;
  for (let n = 0; n < (c.repeat ?? 1); n++) {
    const response = await fetch(url, { method: c.method ?? 'POST', headers, body });
    const text = await response.text();
    let parsed: Answer['body'] = null;
    try {
      parsed = JSON.parse(text) as Answer['body'];
    } catch {
      parsed = null;
    }
    answer = { status: response.status, retryAfter: response.headers.get('retry-after'), body: parsed };
  }
  return answer!;
}

interface SocketOutcome {
  close?: number;
  acknowledged: boolean;
  errors: { extensions?: { code?: string; retryAfterSeconds?: number } }[];
  results: unknown[];
}

/** One graphql-ws conversation: init, the case's frames, until the expected close or operation answer (or 8 s). */
function converse(c: HostileCase, url: string, authorization: unknown, hold: WebSocket[]): Promise<SocketOutcome> {
  return new Promise((resolve) => {
    const protocol = c.protocol === undefined ? 'graphql-transport-ws' : c.protocol;
    const socket = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
    hold.push(socket);
    const outcome: SocketOutcome = { acknowledged: false, errors: [], results: [] };
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(settle, 8000);
    const sendFrames = () => {
      if (c.pauseMs) {
        socket.pause();
        setTimeout(() => socket.resume(), c.pauseMs);
      }
      for (const frame of expand(c.frames ?? [], vars) as unknown[]) socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    };
    socket.on('open', () => {
      if (c.init === false) return sendFrames();
      socket.send(JSON.stringify({ type: 'connection_init', payload: { ...(authorization !== undefined ? { authorization } : {}), ...(expand(c.init ?? {}, vars) as object) } }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') {
        outcome.acknowledged = true;
        sendFrames();
        if (!c.frames?.length && c.expect.close === undefined) settle();
      }
      if (message.type === 'error') outcome.errors.push(...(message.payload as SocketOutcome['errors']));
      if (message.type === 'next') {
        const result = message.payload as { data?: unknown; errors?: SocketOutcome['errors'] };
        outcome.results.push(result);
        outcome.errors.push(...(result.errors ?? []));
      }
      if (c.expect.close === undefined && (outcome.errors.length > 0 || (c.expect.code === null && outcome.results.length > 0))) settle();
    });
    socket.on('close', (code) => {
      outcome.close = code;
      settle();
    });
    // A refused handshake errors first; its close (1006) follows.
    socket.on('error', () => undefined);
  });
}

async function sendWs(c: HostileCase): Promise<SocketOutcome> {
  const api = instances[c.instance ?? 'main']!;
  const authorization = await authorizationOf(c);
  const hold: WebSocket[] = [];
  try {
    const count = c.sockets ?? 1;
    for (let n = 0; n < count - 1; n++) await converse({ ...c, frames: [], expect: { code: null } }, api.websocketUrl, authorization, hold);
    return await converse(c, api.websocketUrl, authorization, hold);
  } finally {
    for (const socket of hold) if (socket.readyState === WebSocket.OPEN) socket.close(1000);
  }
}

const record = (c: HostileCase, got: string) => outcomes.push({ class: c.class, name: c.name, got });

describe('the hostile corpus', () => {
  it('holds at least 100 cases with unique names', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  for (const c of corpus) {
    it(`${c.class}: ${c.name}`, async () => {
      const e = c.expect;
      if (c.kind === 'http') {
        const answer = await sendHttp(c);
        const errors = answer.body?.errors ?? [];
        const code = errors[0]?.extensions?.code ?? null;
        record(c, `HTTP ${answer.status}${code ? ` ${code}` : ''}`);
        const detail = JSON.stringify(answer).slice(0, 600);
        if (e.status !== undefined) expect(answer.status, detail).toBe(e.status);
        if (e.code !== undefined) expect(code, detail).toBe(e.code);
        if (e.maxErrors !== undefined) {
          expect(errors.length, detail).toBeLessThanOrEqual(e.maxErrors);
          expect(errors.every((x) => x.extensions?.code === e.code), detail).toBe(true);
        }
        if (e.data !== undefined) expect(answer.body?.data, detail).toMatchObject(e.data as object);
        if (e.retryAfter) expect(Number(answer.retryAfter), detail).toBeGreaterThanOrEqual(1);
      } else {
        const outcome = await sendWs(c);
        const code = outcome.errors[0]?.extensions?.code ?? null;
        record(c, e.close !== undefined ? `close ${outcome.close ?? '-'}` : code ? `operation ${code}` : outcome.results.length > 0 ? 'operation answered' : `close ${outcome.close ?? '-'}`);
        const detail = JSON.stringify(outcome).slice(0, 600);
        if (e.close !== undefined) expect(outcome.close, detail).toBe(e.close);
        if (e.code !== undefined) expect(code, detail).toBe(e.code);
        if (e.data !== undefined) expect(outcome.results[0], detail).toMatchObject({ data: e.data });
        if (e.retryAfter) expect(outcome.errors[0]?.extensions?.retryAfterSeconds, detail).toBeGreaterThanOrEqual(1);
      }
    }, 30_000);
  }

  it('leaves every API instance answering /livez and a normal query', async () => {
    const token = await buildToken('customer', TEST_JWT_SECRET);
    for (const api of Object.values(instances)) {
      expect((await fetch(new URL('/livez', api.graphqlUrl))).status).toBe(200);
      const response = await fetch(api.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ restaurants { id } me { id } }' }),
      });
      expect(await response.json()).toMatchObject({ data: { me: { id: 'hostile-customer' } } });
    }
  });

  it('wrote nothing: the same topic end offsets and collection counts as before the corpus', async () => {
    expect(await snapshot()).toEqual(before);
  });

  it('summarises class → cases → codes (printed and in .local/hostile/summary.json)', () => {
    const classes = new Map<string, { cases: number; codes: Set<string> }>();
    for (const o of outcomes) {
      const entry = classes.get(o.class) ?? { cases: 0, codes: new Set<string>() };
      entry.cases++;
      entry.codes.add(o.got);
      classes.set(o.class, entry);
    }
    const summary = {
      cases: outcomes.length,
      limits: LIMITS,
      classes: [...classes].map(([name, { cases, codes }]) => ({ class: name, cases, codes: [...codes].sort() })),
      outcomes,
    };
    const table = summary.classes.map((r) => `${r.class.padEnd(24)} ${String(r.cases).padStart(4)}  ${r.codes.join(', ')}`).join('\n');
    console.log(`hostile corpus summary\n${'class'.padEnd(24)} cases  codes\n${table}`);
    const file = path.join(process.cwd(), '.local', 'hostile', 'summary.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    expect(outcomes.length).toBe(corpus.length);
  });
});
