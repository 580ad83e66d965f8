/**
 * End-to-end benchmark: the highest sustainable order rate, and the latency customers see at
 * half of it, with each client waiting for its own orderConfirmed. The real local Kafka and
 * FerretDB (found running, or started by the global setup, which stops only what it started),
 * a Kafka namespace and a database of its own, one API instance in this process
 * (startApiServer), the four consumer modules each as its own OS process
 * (`node dist/consumers/<name>.js`, built first if dist/ is older than src/) and a real SMTP
 * server in this process (smtp-server, counting what it receives) as their SMTP_URL.
 *
 * C customers, each with its own CUSTOMER token and graphql-ws connection holding an
 * `orderConfirmed` subscription, place orders over HTTP (`placeOrder`, tok_visa) at a fixed
 * total rate R, open loop: order i is sent at start + i/R whatever the earlier ones are doing,
 * by customer i mod C. For each order it records request → response (PLACED) and request → its
 * own CONFIRMED arriving on that customer's subscription. Each customer first places one
 * warm-up order and waits for its CONFIRMED (its subscription is live from then on).
 *
 * 1. Search. R steps up through BENCH_E2E_RATES, each step BENCH_E2E_STEP_SECONDS long, and
 *    stops at the first step that is not sustainable; then BENCH_E2E_BISECT_STEPS more steps
 *    bisect between the last sustainable rate and the first that was not. A step is
 *    sustainable when
 *    - the transactions group's lag stays flat: its lag on order.placed (high watermarks minus
 *      committed offsets, kafkajs admin, sampled every second) at the end of the step (median
 *      of the last 3 s) is not above its lag BENCH_E2E_LAG_SETTLE_SECONDS into the step
 *      (median of the 3 s from then) by more than max(BENCH_E2E_LAG_MARGIN, R × 0.5 s), and
 *    - the queue in front of the API stays flat by the same rule: the placeOrder requests sent
 *      and not yet answered (sampled every second), which the lag cannot see, and
 *    - every order of the step got PLACED and then its CONFIRMED within BENCH_E2E_DRAIN_SECONDS
 *      after the step's last request.
 *    A step whose lag or placeOrder queue already grew by more than max(3 × margin, R × 3 s)
 *    stops early. After a
 *    step that was not sustainable the backlog is worked off (lag 0, every order settled;
 *    bounded by BENCH_E2E_RECOVER_SECONDS) before anything else is measured. No new step starts
 *    when it and its drain could not end within BENCH_E2E_SEARCH_SECONDS of the search's start
 *    (a recovery may run past that, within its own bound).
 * 2. Measurement. BENCH_E2E_MEASURE_SECONDS at half the sustainable rate (half the lowest rate
 *    tried when none was sustainable; then flagged): request → CONFIRMED p50/p95/p99 (target
 *    p99 ≤ 250 ms) and placeOrder p50/p95/p99, after which every order must be CONFIRMED within
 *    BENCH_E2E_DRAIN_SECONDS × 2.
 *
 * It prints progress every few seconds and a table at the end, writes the figures, machine
 * info and the ratios as JSON (bench/results/end-to-end.json; `sustainableRate` is there for
 * whoever merges the drain figure; when bench/results/drain.json exists and was written on a
 * machine of the same description, `ratios.endToEndVsDrain` = sustainableRate ÷ its drain
 * orders/s is computed from it and `ratios.endToEndVsDrainSource` names the file), removes its
 * topics, groups and database, and fails (exit code 1, after writing the JSON) on a problem —
 * a consumer process that died, a failed placeOrder, a subscription error, an order of the
 * measurement not CONFIRMED — never because the pipeline was slow. A watchdog ends the run
 * early (still writing what it measured, and whether the store and the broker answer a ping)
 * when a consumer process exits, a consumer group has had no member for 45 s, or nothing was
 * CONFIRMED for 60 s while orders waited: a stopped pipeline fails in about a minute, not
 * after every bound. Two cores are shared by the
 * API, the customers, the consumers, Kafka and the store: figures move with the machine's load.
 *
 *   npx tsc -p tsconfig.build.json
 *   npx vitest run --config bench/vitest.bench.config.mts bench/end-to-end.bench.ts
 *   BENCH_E2E_RATES=10,20 BENCH_E2E_STEP_SECONDS=6 BENCH_E2E_MEASURE_SECONDS=6 BENCH_E2E_CUSTOMERS=4 \
 *     npx vitest run --config bench/vitest.bench.config.mts bench/end-to-end.bench.ts
 *
 * Parameters (environment variables, since vitest owns the command line):
 *   BENCH_E2E_CUSTOMERS           customers (one graphql-ws connection and token each)        20
 *   BENCH_E2E_RATES               search steps, orders/s, ascending      50,100,200,400,800,1600
 *   BENCH_E2E_STEP_SECONDS        duration of each search step                                20
 *   BENCH_E2E_BISECT_STEPS        bisection steps after the first step not sustainable         3
 *   BENCH_E2E_SEARCH_SECONDS      bound of the whole search (steps, drains, recoveries)       300
 *   BENCH_E2E_LAG_SETTLE_SECONDS  when in a step the lag is first read                          5
 *   BENCH_E2E_LAG_MARGIN          least allowed lag growth over a step, messages               25
 *   BENCH_E2E_DRAIN_SECONDS       how long after a step its orders may take to be CONFIRMED    10
 *   BENCH_E2E_RECOVER_SECONDS     bound of working off a backlog after an unsustainable step  120
 *   BENCH_E2E_MEASURE_SECONDS     duration of the measurement at half the sustainable rate    60
 *   BENCH_E2E_IDEMPOTENCY_KEYS    1: each order carries a unique idempotencyKey; 0: none        0
 *   BENCH_E2E_PROGRESS_SECONDS    progress line interval                                        5
 *   BENCH_E2E_LOG_LEVEL           LOG_LEVEL of the consumer processes (the API: error)      warn
 *   BENCH_E2E_OUTPUT              where the JSON goes            bench/results/end-to-end.json
 * KAFKA_TOPIC_PARTITIONS and the other product variables apply as usual.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import type { Admin } from 'kafkajs';
import mongoose from 'mongoose';
import { SMTPServer } from 'smtp-server';
import { inject, it } from 'vitest';
import { CONSUMER_MODULE_NAMES } from '../src/consumers/modules';
import { signAccessToken } from '../src/auth/access-token';
import type { Config } from '../src/config';
import { physicalGroupId, physicalTopic, TOPICS } from '../src/events/topics';
import { startApiServer, type ApiServer } from '../src/http/api-server';
import { createLogger } from '../src/logger';
import * as ops from '../test/generated/graphql';
import { wsClient } from '../test/support/api-harness';
import { buildIfNeeded, ROOT } from '../test/support/processes';
import { removeTestNamespace, testConfig, testKafka, uniqueMongoUrl, uniqueName } from '../test/support/services';
import { consumerEnv } from './support/consumer-env';
import { BENCH_RATE_LIMITS } from './support/rate-limits';
import { perSecond, seconds, summarise, table, type LatencySummary } from './support/figures';
import { withTimeout } from '../src/retry';
import { startCpuProfile } from './support/cpu-profile';
import { describeMachine } from './support/machine';
import { whole } from './support/params';

// ---------------------------------------------------------------------------------------------
// Parameters

function rates(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name]?.trim();
  if (!raw) return [...fallback];
  const values = raw.split(',').map((part) => part.trim());
  const parsed = values.map(Number);
  if (values.some((v) => !/^\d+$/.test(v)) || parsed.some((v) => v < 1 || v > 100_000) || parsed.some((v, i) => i > 0 && v <= parsed[i - 1]!)) {
    throw new Error(`${name} must be ascending whole numbers from 1 to 100000, comma-separated (e.g. 50,100,200), not "${raw}"`);
  }
  return parsed;
}

const params = {
  customers: whole('BENCH_E2E_CUSTOMERS', 20, 1, 500),
  rates: rates('BENCH_E2E_RATES', [50, 100, 200, 400, 800, 1600]),
  stepSeconds: whole('BENCH_E2E_STEP_SECONDS', 20, 3, 600),
  bisectSteps: whole('BENCH_E2E_BISECT_STEPS', 3, 0, 10),
  searchSeconds: whole('BENCH_E2E_SEARCH_SECONDS', 300, 1, 3600),
  lagSettleSeconds: whole('BENCH_E2E_LAG_SETTLE_SECONDS', 5, 1, 60),
  lagMargin: whole('BENCH_E2E_LAG_MARGIN', 25, 0, 1_000_000),
  drainSeconds: whole('BENCH_E2E_DRAIN_SECONDS', 10, 1, 600),
  recoverSeconds: whole('BENCH_E2E_RECOVER_SECONDS', 120, 1, 3600),
  measureSeconds: whole('BENCH_E2E_MEASURE_SECONDS', 60, 1, 3600),
  idempotencyKeys: whole('BENCH_E2E_IDEMPOTENCY_KEYS', 0, 0, 1) === 1,
  progressSeconds: whole('BENCH_E2E_PROGRESS_SECONDS', 5, 1, 60),
  logLevel: process.env.BENCH_E2E_LOG_LEVEL?.trim() || 'warn',
  output: path.resolve(__dirname, '..', process.env.BENCH_E2E_OUTPUT?.trim() || 'bench/results/end-to-end.json'),
  paymentToken: 'tok_visa',
};
if (params.lagSettleSeconds + 3 > params.stepSeconds) throw new Error('BENCH_E2E_LAG_SETTLE_SECONDS + 3 must not exceed BENCH_E2E_STEP_SECONDS');

/** Lag growth allowed over a step: at least the margin, or half a second of orders at the step's rate. */
const allowedGrowth = (rate: number) => Math.max(params.lagMargin, Math.round(rate * 0.5));
/** Lag growth that ends a step early: clearly not keeping up. */
const abortGrowth = (rate: number) => Math.max(3 * params.lagMargin, Math.round(rate * 3));

const CONSUMER_MODULES = CONSUMER_MODULE_NAMES;
const REQUEST_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 90_000;
const WARMUP_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 15_000;
const CONSUMER_STOP_GRACE_MS = 35_000;
/** The run ends (as failed, with what it measured so far) when nothing is CONFIRMED for this long while orders wait… */
const STALL_MS = 60_000;
/** …or a consumer group has had no member this long although its process runs. */
const GROUP_LOST_MS = 45_000;
/** Bound of stopping the API, and of removing the namespace and the database. */
const CLEANUP_STEP_MS = 60_000;
/** Set-up, warm-up, checks and clean-up get this much on top of the search and measurement bounds. */
const FIXED_BUDGET_MS = 2 * START_TIMEOUT_MS + WARMUP_TIMEOUT_MS + CONSUMER_STOP_GRACE_MS + 2 * CLEANUP_STEP_MS + 60_000;

const BASKETS: readonly Omit<ops.PlaceOrderInput, 'deliveryAddress' | 'paymentToken'>[] = [
  { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }] },
  { restaurantId: 'sushi-sakura', items: [{ menuItemId: 'salmon-nigiri', quantity: 3 }, { menuItemId: 'miso-soup', quantity: 1 }] },
  { restaurantId: 'green-bowl', items: [{ menuItemId: 'falafel-bowl', quantity: 1 }, { menuItemId: 'quinoa-salad', quantity: 2 }] },
  { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'diavola', quantity: 1 }] },
];

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[bench ${elapsed()}] ${message}`);

// ---------------------------------------------------------------------------------------------
// Orders and confirmations

interface OrderRecord {
  /** Which phase sent it: 'warmup', 'step <n>' or 'measure'. */
  readonly phase: string;
  readonly n: number;
  readonly customer: number;
  /** performance.now(): when the schedule said to send it, when fetch was called, when PLACED came back. */
  readonly scheduledAt: number;
  sentAt: number;
  respondedAt?: number;
  orderId?: string;
  error?: string;
}

const records: OrderRecord[] = [];
/** First arrival of CONFIRMED per order on its customer's subscription (performance.now()). */
const confirmedAt = new Map<string, number>();
/** CONFIRMED that arrived on another customer's subscription than the order's (must stay 0). */
const strayConfirmations: string[] = [];
const streamErrors: string[] = [];
let duplicateConfirmations = 0;
/** Set when the clean-up begins: subscriptions ending from then on are expected. */
let closing = false;
let lastConfirmationAt = 0;
/** Why the pipeline is taken to have stopped (see the watchdog); every wait checks it. */
let stalled: string | null = null;

class PipelineStalled extends Error {}

function checkStalled(): void {
  if (stalled) throw new PipelineStalled(stalled);
}
const inFlight = new Set<Promise<void>>();
const runId = randomBytes(4).toString('hex');
const PLACE_ORDER = print(ops.PlaceOrderDocument);
const ORDER_CONFIRMED = print(ops.OrderConfirmedDocument);

interface Customer {
  readonly index: number;
  readonly id: string;
  readonly token: string;
  readonly client: Client;
}

const isSettled = (r: OrderRecord) => r.error !== undefined || (r.orderId !== undefined && confirmedAt.has(r.orderId));
const isConfirmed = (r: OrderRecord) => r.orderId !== undefined && confirmedAt.has(r.orderId);

async function connectCustomer(index: number, websocketUrl: string, jwtSecret: string): Promise<Customer> {
  const id = `bench-e2e-${runId}-${index}`;
  const token = await signAccessToken({ sub: id, role: 'CUSTOMER', email: `customer-${index}@bench.example` }, jwtSecret, { expiresInSeconds: 4 * 3600 });
  const client = wsClient(websocketUrl, token);
  const connected = new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve());
    client.on('closed', (event) => reject(new Error(`customer ${index}: the socket closed before it was acknowledged (${JSON.stringify(event)})`)));
  });
  client.subscribe<ops.OrderConfirmedSubscription>(
    { query: ORDER_CONFIRMED, variables: {} },
    {
      next: (result) => {
        const at = performance.now();
        if (result.errors) streamErrors.push(`customer ${index}: ${JSON.stringify(result.errors)}`);
        const confirmation = result.data?.orderConfirmed;
        if (!confirmation) return;
        if (confirmation.customerId !== id) strayConfirmations.push(`${confirmation.orderId} (${confirmation.customerId}) on customer ${index}`);
        if (confirmedAt.has(confirmation.orderId)) duplicateConfirmations += 1;
        else confirmedAt.set(confirmation.orderId, at);
        lastConfirmationAt = at;
      },
      error: (error) => closing || streamErrors.push(`customer ${index}: ${error instanceof Error ? error.message : JSON.stringify(error)}`),
      complete: () => closing || streamErrors.push(`customer ${index}: the server completed the subscription`),
    },
  );
  try {
    await withTimeout(connected, CONNECT_TIMEOUT_MS, () => new Error(`customer ${index}: no graphql-ws connection_ack within ${CONNECT_TIMEOUT_MS} ms`));
  } catch (error) {
    await client.dispose();
    throw error;
  }
  return { index, id, token, client };
}

/** Sends one order now (fire and forget; tracked in inFlight) and returns its record. */
function sendOrder(url: string, customer: Customer, phase: string, n: number, scheduledAt: number): OrderRecord {
  const record: OrderRecord = { phase, n, customer: customer.index, scheduledAt, sentAt: performance.now() };
  records.push(record);
  const basket = BASKETS[n % BASKETS.length]!;
  const input: ops.PlaceOrderInput = {
    ...basket,
    deliveryAddress: `${n + 1} Benchmark Street`,
    paymentToken: params.paymentToken,
    idempotencyKey: params.idempotencyKeys ? `${runId}-${phase.replace(' ', '')}-${n}` : null,
  };
  const done = (async () => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
        body: JSON.stringify({ query: PLACE_ORDER, variables: { input } }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const answer = (await response.json()) as { data?: ops.PlaceOrderMutation | null; errors?: { message: string; extensions?: { code?: string } }[] };
      record.respondedAt = performance.now();
      const order = answer.data?.placeOrder;
      if (answer.errors?.length || order?.status !== 'PLACED') {
        const error = answer.errors?.[0];
        record.error = `HTTP ${response.status}: ${error ? `${error.extensions?.code ?? 'ERROR'} ${error.message}` : `status ${order?.status ?? 'none'}`}`;
      } else {
        record.orderId = order.id;
      }
    } catch (error) {
      record.respondedAt = performance.now();
      record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  })();
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
  return record;
}

// ---------------------------------------------------------------------------------------------
// The transactions group's lag, sampled every second

interface LagSample {
  readonly at: number;
  readonly lag: number;
}

const lagSamples: LagSample[] = [];

/** placeOrder requests sent and not yet answered, sampled every second: the queue in front of the API, which the lag does not see. */
interface QueueSample {
  readonly at: number;
  readonly waiting: number;
}

const queueSamples: QueueSample[] = [];

/**
 * Every second: the transactions group's lag. Every five: the watchdog, which sets `stalled`
 * when a consumer process exited, a consumer group has had no member for GROUP_LOST_MS, or
 * nothing was CONFIRMED for STALL_MS while orders wait.
 */
function startLagSampler(admin: Admin, config: Config, consumers: readonly ConsumerProcess[]): () => void {
  const topic = physicalTopic(config, TOPICS.orderPlaced);
  const groupId = physicalGroupId(config, 'transactions');
  const groups = CONSUMER_MODULES.map((m) => physicalGroupId(config, m));
  const memberlessSince = new Map<string, number>();
  let busy = false;
  let watching = false;
  let tick = 0;
  const watchdog = async () => {
    const now = performance.now();
    const dead = consumers.find((c) => c.exit);
    if (dead) stalled ??= `consumer ${dead.name} exited (${JSON.stringify(dead.exit)}): ${dead.tail.slice(-5).join(' | ')}`;
    const waiting = records.filter((r) => !isSettled(r));
    if (waiting.length > 0) {
      const since = Math.max(lastConfirmationAt, Math.min(...waiting.map((r) => r.sentAt)));
      if (now - since > STALL_MS) stalled ??= `nothing was CONFIRMED for ${Math.round((now - since) / 1000)} s while ${waiting.length} order(s) waited`;
    }
    try {
      for (const group of (await admin.describeGroups(groups)).groups) {
        if (group.members.length > 0) memberlessSince.delete(group.groupId);
        else if (!memberlessSince.has(group.groupId)) memberlessSince.set(group.groupId, now);
        const since = memberlessSince.get(group.groupId);
        if (since !== undefined && now - since > GROUP_LOST_MS) {
          stalled ??= `consumer group ${group.groupId} has had no member for ${Math.round((now - since) / 1000)} s (state ${group.state}) although its process runs`;
        }
      }
    } catch {
      // a busy broker: the next look will tell
    }
  };
  const timer = setInterval(() => {
    tick += 1;
    queueSamples.push({ at: performance.now(), waiting: inFlight.size });
    if (tick % 5 === 0 && !watching) {
      watching = true;
      void watchdog().finally(() => (watching = false));
    }
    if (busy) return; // the broker is slow to answer: skip a beat rather than pile up
    busy = true;
    const at = performance.now();
    void (async () => {
      try {
        const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
        const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
        const lag = ends.reduce((sum, p) => sum + Math.max(0, Number(p.high) - (done.get(p.partition) ?? 0)), 0);
        lagSamples.push({ at, lag });
      } catch {
        // a busy broker: the next sample will tell
      } finally {
        busy = false;
      }
    })();
  }, 1000);
  return () => clearInterval(timer);
}

const latestLag = () => lagSamples.at(-1)?.lag ?? null;

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Median lag of the samples in [from, to) (performance.now()); null when none was taken. */
const lagBetween = (from: number, to: number) => median(lagSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.lag));
/** Median number of placeOrder requests waiting for their answer in [from, to). */
const waitingBetween = (from: number, to: number) => median(queueSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.waiting));

// ---------------------------------------------------------------------------------------------
// Open-loop load

interface LoadRun {
  readonly records: OrderRecord[];
  readonly start: number;
  readonly end: number;
  readonly stoppedEarly: string | null;
  readonly lagEarly: number | null;
  readonly waitingEarly: number | null;
}

/**
 * Sends `rate` orders per second for `durationSeconds` on a fixed schedule (order i at
 * start + i/rate, customers in turn, each record pushed to `mine` as it goes), never waiting for
 * answers. With `watchLag`, reads the lag and the placeOrder requests waiting for an answer
 * LAG_SETTLE seconds in, and ends early once either grew by more than abortGrowth(rate).
 */
async function runAtRate(
  url: string,
  customers: readonly Customer[],
  phase: string,
  rate: number,
  durationSeconds: number,
  watchLag: boolean,
  mine: OrderRecord[] = [],
): Promise<LoadRun> {
  const total = Math.round(rate * durationSeconds);
  const start = performance.now() + 20;
  const settleAt = start + params.lagSettleSeconds * 1000;
  let lagEarly: number | null = null;
  let waitingEarly: number | null = null;
  let stoppedEarly: string | null = null;
  let i = 0;
  while (i < total) {
    checkStalled();
    const now = performance.now();
    while (i < total && start + (i * 1000) / rate <= now) {
      mine.push(sendOrder(url, customers[i % customers.length]!, phase, i, start + (i * 1000) / rate));
      i += 1;
    }
    if (watchLag && now >= settleAt + 3000) {
      lagEarly ??= lagBetween(settleAt, settleAt + 3000);
      waitingEarly ??= waitingBetween(settleAt, settleAt + 3000);
      const latest = latestLag();
      if (lagEarly !== null && latest !== null && latest - lagEarly > abortGrowth(rate)) {
        stoppedEarly = `lag grew from ${lagEarly} to ${latest} (more than ${abortGrowth(rate)})`;
        break;
      }
      if (waitingEarly !== null && inFlight.size - waitingEarly > abortGrowth(rate)) {
        stoppedEarly = `placeOrder requests waiting for an answer grew from ${waitingEarly} to ${inFlight.size} (more than ${abortGrowth(rate)})`;
        break;
      }
    }
    if (i < total) await sleep(Math.max(0, start + (i * 1000) / rate - performance.now()));
  }
  return { records: mine, start, end: performance.now(), stoppedEarly, lagEarly, waitingEarly };
}

/** Resolves once every record is settled (PLACED and CONFIRMED, or failed), or at the deadline. */
async function settle(of: readonly OrderRecord[], deadline: number): Promise<boolean> {
  while (of.some((r) => !isSettled(r))) {
    checkStalled();
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Figures

interface PhaseFigures {
  readonly targetRate: number;
  readonly seconds: number;
  readonly sent: number;
  /** Orders sent per second over the phase (below the target when the schedule could not be kept or the step stopped early). */
  readonly sentPerSecond: number;
  readonly placed: number;
  readonly failed: number;
  readonly confirmed: number;
  readonly notConfirmed: number;
  /** placeOrder request → response with PLACED. */
  readonly placeOrderMs: LatencySummary | null;
  /** placeOrder request → its CONFIRMED on the customer's subscription. */
  readonly requestToConfirmedMs: LatencySummary | null;
  /** How late fetch was called against the schedule (the load generator's own delay). */
  readonly scheduleLagMs: LatencySummary | null;
  readonly firstFailures: string[];
}

function figuresOf(run: LoadRun, rate: number): PhaseFigures {
  const placed = run.records.filter((r) => r.orderId !== undefined);
  const confirmed = placed.filter(isConfirmed);
  const failed = run.records.filter((r) => r.error !== undefined);
  return {
    targetRate: rate,
    seconds: seconds(run.end - run.start),
    sent: run.records.length,
    sentPerSecond: perSecond(run.records.length, run.end - run.start),
    placed: placed.length,
    failed: failed.length,
    confirmed: confirmed.length,
    notConfirmed: run.records.length - confirmed.length,
    placeOrderMs: summarise(placed.map((r) => r.respondedAt! - r.sentAt)),
    requestToConfirmedMs: summarise(confirmed.map((r) => confirmedAt.get(r.orderId!)! - r.sentAt)),
    scheduleLagMs: summarise(run.records.map((r) => r.sentAt - r.scheduledAt)),
    firstFailures: failed.slice(0, 3).map((r) => r.error!),
  };
}

interface StepFigures extends PhaseFigures {
  readonly step: number;
  readonly sustainable: boolean;
  readonly why: string;
  readonly lagEarly: number | null;
  readonly lagEnd: number | null;
  readonly lagGrowth: number | null;
  /** The same rule for both queues: the lag and the placeOrder requests waiting for an answer. */
  readonly allowedLagGrowth: number;
  readonly maxLag: number | null;
  readonly waitingEarly: number | null;
  readonly waitingEnd: number | null;
  readonly waitingGrowth: number | null;
  readonly stoppedEarly: string | null;
  readonly confirmedWithinDrainBound: number;
  readonly recovered: boolean | null;
}

// ---------------------------------------------------------------------------------------------
// Consumer processes and the SMTP server

interface ConsumerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly tail: string[];
  /** Its first output lines (at LOG_LEVEL=warn, every line is a warning or worse). */
  readonly first: string[];
  warnings: number;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  readonly exited: Promise<void>;
}

function startConsumerProcess(name: string, env: NodeJS.ProcessEnv): ConsumerProcess {
  const child = spawn(process.execPath, [`dist/consumers/${name}.js`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: ConsumerProcess = {
    name,
    child,
    tail: [],
    first: [],
    warnings: 0,
    exit: null,
    exited: new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exit = { code, signal };
        resolve();
      });
      child.once('error', (error) => {
        proc.tail.push(`could not start: ${error.message}`);
        proc.exit ??= { code: null, signal: null };
        resolve();
      });
    }),
  };
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      proc.tail.push(line);
      if (proc.tail.length > 30) proc.tail.shift();
      proc.warnings += 1;
      if (proc.first.length < 3) proc.first.push(line.slice(0, 400));
    });
  }
  return proc;
}

async function stopConsumerProcess(proc: ConsumerProcess): Promise<void> {
  if (proc.exit) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!proc.exit) proc.child.kill('SIGKILL');
  }, CONSUMER_STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(timer);
}

/** A real SMTP server on a free local port that counts the messages it accepts (reads and drops them). */
async function startCountingSmtp(): Promise<{ url: string; received: () => number; stop: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 2_000,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        callback();
      });
      stream.on('error', (error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Resolves once each module's group is Stable with a member; throws when a process exits first or at the bound. */
async function untilGroupsJoined(admin: Admin, config: Config, consumers: readonly ConsumerProcess[]): Promise<void> {
  const groups = CONSUMER_MODULES.map((m) => physicalGroupId(config, m));
  const deadline = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    const dead = consumers.find((c) => c.exit);
    if (dead) throw new Error(`consumer ${dead.name} exited at start (${JSON.stringify(dead.exit)}): ${dead.tail.slice(-8).join('\n')}`);
    try {
      const described = (await admin.describeGroups(groups)).groups;
      if (described.every((g) => g.state === 'Stable' && g.members.length > 0)) return;
    } catch {
      // the broker may be busy; look again
    }
    if (performance.now() > deadline) throw new Error(`the consumer groups did not all join within ${START_TIMEOUT_MS} ms`);
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// The drain figure, when bench/results/drain.json is from a machine of the same description

interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  node: string;
}

/** The drain rate of a complete drain run on a machine of the same description, or why there is none. */
function drainFigure(machine: MachineInfo): { ordersPerSecond: number; source: string; timestamp: string | null } | { missing: string } {
  const file = path.join(ROOT, 'bench/results/drain.json');
  if (!existsSync(file)) return { missing: 'bench/results/drain.json does not exist' };
  try {
    const drain = JSON.parse(readFileSync(file, 'utf8')) as { timestamp?: string; machine?: Partial<MachineInfo>; results?: { drain?: { ordersPerSecond?: number; complete?: boolean } | null } };
    const theirs = drain.machine ?? {};
    const same = (['cpus', 'cpuModel', 'memoryGiB', 'platform'] as const).every((k) => theirs[k] === machine[k]);
    if (!same) return { missing: `bench/results/drain.json was written on another machine (${JSON.stringify(theirs)})` };
    const rate = drain.results?.drain?.ordersPerSecond;
    if (typeof rate !== 'number' || rate <= 0) return { missing: 'bench/results/drain.json has no drain orders/s' };
    if (drain.results?.drain?.complete === false) return { missing: `the drain in bench/results/drain.json (${drain.timestamp}) did not complete (${rate} orders/s so far)` };
    return { ordersPerSecond: rate, source: 'bench/results/drain.json', timestamp: drain.timestamp ?? null };
  } catch (error) {
    return { missing: `bench/results/drain.json could not be read: ${error instanceof Error ? error.message : String(error)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// When the pipeline stopped: do the store and the broker still answer?

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withTimeout(promise, ms, () => new Error(`no answer within ${ms} ms`));
}

async function diagnose(config: Config, admin: Admin | undefined): Promise<string> {
  const t0 = performance.now();
  const connection = mongoose.createConnection(config.mongo.url, { serverSelectionTimeoutMS: 5000 });
  const store = await within(
    connection.asPromise().then((c) => c.db!.command({ ping: 1 })),
    10_000,
  ).then(
    () => `the store (${new URL(config.mongo.url).host}) answered a ping in ${Math.round(performance.now() - t0)} ms`,
    (error: unknown) => `the store (${new URL(config.mongo.url).host}) did not answer a ping: ${error instanceof Error ? error.message : String(error)}`,
  );
  void connection.close(true).catch(() => undefined);
  const t1 = performance.now();
  const broker = admin
    ? await within(admin.describeCluster(), 10_000).then(
        (c) => `the broker answered in ${Math.round(performance.now() - t1)} ms (${c.brokers.length} broker(s))`,
        (error: unknown) => `the broker did not answer: ${error instanceof Error ? error.message : String(error)}`,
      )
    : 'the broker was not asked';
  return `${store}; ${broker}`;
}

// ---------------------------------------------------------------------------------------------
// The benchmark

const searchBoundMs = (params.searchSeconds + params.stepSeconds + params.drainSeconds + params.recoverSeconds) * 1000;
const measureBoundMs = (params.recoverSeconds + params.measureSeconds + params.drainSeconds * 2) * 1000;
const budgetMs = searchBoundMs + measureBoundMs + FIXED_BUDGET_MS;

it(`end to end: sustainable rate, then ${params.measureSeconds} s at half of it, ${params.customers} customers`, { timeout: budgetMs }, async () => {
  const timestamp = new Date().toISOString();
  const loadAtStart = loadavg();
  const name = 'bench-end-to-end';
  const jwtSecret = randomBytes(24).toString('hex');
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName(name), MONGO_URL: uniqueMongoUrl(name), JWT_SECRET: jwtSecret, ...BENCH_RATE_LIMITS, LOG_LEVEL: 'error' });
  const log = createLogger(name, { level: 'error' });
  const machine = describeMachine(loadAtStart);
  const profile = await startCpuProfile(name);

  say(`end to end: ${params.customers} customers; search over ${params.rates.join(', ')} orders/s (${params.stepSeconds} s a step, ${params.bisectSteps} bisection steps, at most ${params.searchSeconds} s), then ${params.measureSeconds} s at half the sustainable rate`);
  say(`namespace ${config.kafka.namespace} (${config.kafka.topicPartitions} partitions per topic) on ${config.kafka.brokers.join(',')}, database ${new URL(config.mongo.url).pathname.slice(1)}`);

  let api: ApiServer | undefined;
  let admin: Admin | undefined;
  let smtp: Awaited<ReturnType<typeof startCountingSmtp>> | undefined;
  let stopSampler: (() => void) | undefined;
  const consumers: ConsumerProcess[] = [];
  const exitedBeforeCleanup = new Set<string>();
  const customers: Customer[] = [];
  const steps: StepFigures[] = [];
  let measurement: (PhaseFigures & { lagMax: number | null; backlogAtStart: number | null; drained: boolean }) | undefined;
  let measureRate = 0;
  let sustainableRate: number | null = null;
  let searchStoppedBecause = '';
  const problems: string[] = [];
  let failure: unknown;
  let diagnosis = '';
  let activity = 'starting';
  let current: { label: string; since: number; records: () => readonly OrderRecord[] } | null = null;
  const progress = setInterval(() => {
    const dead = consumers.filter((c) => c.exit).map((c) => c.name);
    if (current) {
      const rs = current.records();
      say(
        `${current.label}: ${seconds(performance.now() - current.since)} s, sent ${rs.length}, PLACED ${rs.filter((r) => r.orderId).length}, ` +
          `CONFIRMED ${rs.filter(isConfirmed).length}, failed ${rs.filter((r) => r.error).length}, transactions lag ${latestLag() ?? '-'}${dead.length ? `, EXITED: ${dead.join(', ')}` : ''}`,
      );
    } else {
      say(`${activity}… (transactions lag ${latestLag() ?? '-'})`);
    }
  }, params.progressSeconds * 1000);
  progress.unref();

  const consumersAlive = () => {
    const dead = consumers.find((c) => c.exit);
    if (dead) stalled ??= `consumer ${dead.name} exited (${JSON.stringify(dead.exit)}): ${dead.tail.slice(-5).join(' | ')}`;
    checkStalled();
  };

  /** Waits for lag 0 and every order sent so far settled; false at the bound. */
  async function recover(boundSeconds: number): Promise<boolean> {
    activity = 'working off the backlog';
    const deadline = performance.now() + boundSeconds * 1000;
    while (performance.now() < deadline) {
      consumersAlive();
      if (latestLag() === 0 && records.every(isSettled)) return true;
      await sleep(250);
    }
    return false;
  }

  try {
    activity = 'building dist/ if it is older than src/';
    say('building dist/ if it is older than src/ (npx tsc -p tsconfig.build.json)…');
    await buildIfNeeded();
    activity = 'starting';
    smtp = await startCountingSmtp();
    say(`starting the API in this process, an SMTP server on ${smtp.url}, and ${CONSUMER_MODULES.map((m) => `node dist/consumers/${m}.js`).join(', ')}…`);
    const starting = startApiServer(config, log, { port: 0 });
    api = await within(starting, START_TIMEOUT_MS).catch((error: unknown) => {
      void starting.then((late) => late.stop()).catch(() => undefined); // a late start is stopped again
      throw new Error(`the API did not start within ${START_TIMEOUT_MS} ms (${error instanceof Error ? error.message : String(error)}): is the store answering?`);
    });
    await within(api.subscriptionsReady(), START_TIMEOUT_MS);
    admin = testKafka().admin();
    await admin.connect();
    const env = consumerEnv(config, { smtpUrl: smtp.url, jwtSecret, logLevel: params.logLevel });
    for (const module of CONSUMER_MODULES) consumers.push(startConsumerProcess(module, env));
    activity = 'waiting for the consumer groups to join';
    await untilGroupsJoined(admin, config, consumers);
    stopSampler = startLagSampler(admin, config, consumers);
    say(`API on ${api.graphqlUrl}, the consumer groups joined; connecting ${params.customers} customers over graphql-ws…`);
    const results = await Promise.allSettled(Array.from({ length: params.customers }, (_, i) => connectCustomer(i, api!.websocketUrl, jwtSecret)));
    for (const r of results) if (r.status === 'fulfilled') customers.push(r.value);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason;
    const url = api.graphqlUrl;

    activity = 'warming up';
    say('warm-up: each customer places one order and waits for its CONFIRMED on its subscription…');
    const warmup = customers.map((c) => sendOrder(url, c, 'warmup', c.index, performance.now()));
    if (!(await settle(warmup, performance.now() + WARMUP_TIMEOUT_MS))) throw new Error(`warm-up: ${warmup.filter((r) => !isSettled(r)).length} order(s) not CONFIRMED within ${WARMUP_TIMEOUT_MS} ms`);
    const warmFailed = warmup.find((r) => r.error);
    if (warmFailed) throw new Error(`warm-up order of customer ${warmFailed.customer} failed: ${warmFailed.error}`);

    // ---- 1. Search
    const searchStart = performance.now();
    const searchLeftMs = () => params.searchSeconds * 1000 - (performance.now() - searchStart);
    let lastGood: number | null = null;
    let firstBad: number | null = null;
    let bisected = 0;
    let rateIndex = 0;
    for (let step = 1; ; step += 1) {
      let rate: number;
      if (firstBad === null) {
        if (rateIndex >= params.rates.length) {
          searchStoppedBecause = `every rate of BENCH_E2E_RATES was sustainable (raise them to find the limit)`;
          break;
        }
        rate = params.rates[rateIndex++]!;
      } else {
        if (bisected >= params.bisectSteps) {
          searchStoppedBecause = `${bisected} bisection step(s) done`;
          break;
        }
        rate = Math.round(((lastGood ?? 0) + firstBad) / 2);
        if (rate <= (lastGood ?? 0) || rate >= firstBad) {
          searchStoppedBecause = 'nothing left to bisect';
          break;
        }
        bisected += 1;
      }
      if (step > 1 && searchLeftMs() < (params.stepSeconds + params.drainSeconds) * 1000) {
        searchStoppedBecause = `BENCH_E2E_SEARCH_SECONDS (${params.searchSeconds}) would be passed by another step`;
        break;
      }
      consumersAlive();
      const label = `step ${step} at ${rate}/s`;
      say(`${label}: ${params.stepSeconds} s…`);
      const stepRecords: OrderRecord[] = [];
      current = { label, since: performance.now(), records: () => stepRecords };
      const run = await runAtRate(url, customers, `step ${step}`, rate, params.stepSeconds, true, stepRecords);
      const lagEarly = run.lagEarly ?? lagBetween(run.start + params.lagSettleSeconds * 1000, run.start + (params.lagSettleSeconds + 3) * 1000);
      const lagEnd = lagBetween(run.end - 3000, run.end + 1);
      const waitingEarly = run.waitingEarly ?? waitingBetween(run.start + params.lagSettleSeconds * 1000, run.start + (params.lagSettleSeconds + 3) * 1000);
      const waitingEnd = waitingBetween(run.end - 3000, run.end + 1);
      const waitingGrowth = waitingEarly !== null && waitingEnd !== null ? waitingEnd - waitingEarly : null;
      const stepSamples = lagSamples.filter((s) => s.at >= run.start && s.at <= run.end).map((s) => s.lag);
      current = { label: `${label}, draining`, since: run.end, records: () => stepRecords };
      await settle(run.records, run.end + params.drainSeconds * 1000);
      const confirmedWithinDrainBound = run.records.filter(isConfirmed).length;
      current = null;
      const figures = figuresOf(run, rate);
      const growth = lagEarly !== null && lagEnd !== null ? lagEnd - lagEarly : null;
      const reasons: string[] = [];
      if (run.stoppedEarly) reasons.push(`stopped early: ${run.stoppedEarly}`);
      else if (growth === null) reasons.push('the lag could not be read');
      else if (growth > allowedGrowth(rate)) reasons.push(`lag grew by ${growth} (allowed ${allowedGrowth(rate)})`);
      if (!run.stoppedEarly && waitingGrowth !== null && waitingGrowth > allowedGrowth(rate)) {
        reasons.push(`placeOrder requests waiting for an answer grew by ${waitingGrowth} (allowed ${allowedGrowth(rate)})`);
      }
      if (figures.failed > 0) reasons.push(`${figures.failed} placeOrder failure(s)`);
      if (confirmedWithinDrainBound < run.records.length) reasons.push(`${run.records.length - confirmedWithinDrainBound} order(s) not CONFIRMED within ${params.drainSeconds} s after the step`);
      const sustainable = reasons.length === 0;
      let recovered: boolean | null = null;
      if (!sustainable) {
        say(`${label}: NOT sustainable (${reasons.join('; ')}); working off the backlog (at most ${params.recoverSeconds} s)…`);
        recovered = await recover(params.recoverSeconds);
      }
      steps.push({
        step,
        ...figures,
        sustainable,
        why: sustainable
          ? `lag growth ${growth} and placeOrder queue growth ${waitingGrowth ?? '-'} ≤ ${allowedGrowth(rate)}, all CONFIRMED within ${params.drainSeconds} s`
          : reasons.join('; '),
        lagEarly,
        lagEnd,
        lagGrowth: growth,
        allowedLagGrowth: allowedGrowth(rate),
        maxLag: stepSamples.length ? Math.max(...stepSamples) : null,
        waitingEarly,
        waitingEnd,
        waitingGrowth,
        stoppedEarly: run.stoppedEarly,
        confirmedWithinDrainBound,
        recovered,
      });
      say(
        `${label}: ${sustainable ? 'sustainable' : 'NOT sustainable'} — sent ${figures.sentPerSecond}/s, lag ${lagEarly ?? '-'} → ${lagEnd ?? '-'}, waiting for placeOrder ${waitingEarly ?? '-'} → ${waitingEnd ?? '-'}, ` +
          `request→CONFIRMED p50 ${figures.requestToConfirmedMs?.p50 ?? '-'} p99 ${figures.requestToConfirmedMs?.p99 ?? '-'} ms, placeOrder p99 ${figures.placeOrderMs?.p99 ?? '-'} ms` +
          (recovered === null ? '' : `, backlog ${recovered ? 'worked off' : 'NOT worked off in time'}`),
      );
      if (sustainable) lastGood = Math.max(lastGood ?? 0, rate);
      else firstBad = Math.min(firstBad ?? Infinity, rate);
      if (recovered === false) {
        searchStoppedBecause = `the backlog of the step at ${rate}/s was not worked off within BENCH_E2E_RECOVER_SECONDS (${params.recoverSeconds})`;
        break;
      }
    }
    sustainableRate = lastGood;
    say(`search done (${searchStoppedBecause}): sustainable rate ${sustainableRate ?? 'none found'}${firstBad !== null ? `, first not sustainable ${firstBad}/s` : ''}`);

    // ---- 2. Measurement at half the sustainable rate
    measureRate = Math.max(1, Math.round((sustainableRate ?? Math.min(...steps.map((s) => s.targetRate))) / 2));
    if (sustainableRate === null) problems.push(`no rate tried was sustainable; the measurement ran at half the lowest rate tried (${measureRate}/s)`);
    const backlogAtStart = latestLag();
    if (!(await recover(params.recoverSeconds))) problems.push(`the measurement started with a backlog (transactions lag ${latestLag()})`);
    consumersAlive();
    say(`measuring: ${params.measureSeconds} s at ${measureRate}/s…`);
    const measureRecords: OrderRecord[] = [];
    current = { label: `measure at ${measureRate}/s`, since: performance.now(), records: () => measureRecords };
    const run = await runAtRate(url, customers, 'measure', measureRate, params.measureSeconds, false, measureRecords);
    current = { label: `measure at ${measureRate}/s, draining`, since: run.end, records: () => measureRecords };
    const drained = await settle(run.records, run.end + params.drainSeconds * 2 * 1000);
    current = null;
    const measureSamples = lagSamples.filter((s) => s.at >= run.start && s.at <= run.end).map((s) => s.lag);
    measurement = { ...figuresOf(run, measureRate), lagMax: measureSamples.length ? Math.max(...measureSamples) : null, backlogAtStart, drained };
    if (measurement.failed > 0) problems.push(`measurement: ${measurement.failed} placeOrder failure(s); first: ${measurement.firstFailures[0]}`);
    if (measurement.notConfirmed > 0) problems.push(`measurement: ${measurement.notConfirmed} order(s) not CONFIRMED within ${params.drainSeconds * 2} s after the last request`);
    consumersAlive();
  } catch (error) {
    failure = error;
    if (error instanceof PipelineStalled) {
      say(`the pipeline stopped: ${error.message}; asking the store and the broker whether they answer…`);
      diagnosis = await diagnose(config, admin);
      say(`diagnosis: ${diagnosis}`);
    }
  } finally {
    clearInterval(progress);
    current = null;
    stopSampler?.();
    for (const c of consumers) if (c.exit) exitedBeforeCleanup.add(c.name);
    closing = true;
    say('cleaning up: sockets, consumer processes, API, SMTP, then the namespace’s topics and groups and the database…');
    await Promise.allSettled([...inFlight]);
    await Promise.allSettled(customers.map((c) => c.client.dispose()));
    const stopping = await Promise.allSettled([...consumers.map(stopConsumerProcess), api && within(api.stop(), CLEANUP_STEP_MS)]);
    await admin?.disconnect().catch(() => undefined);
    await smtp?.stop().catch(() => undefined);
    const removal = await Promise.allSettled([within(removeTestNamespace(config.kafka.namespace, config.mongo.url), CLEANUP_STEP_MS)]);
    const cleanupProblems = [...stopping, ...removal].filter((r) => r.status === 'rejected').map((r) => String(r.reason));
    for (const problem of cleanupProblems) say(`clean-up problem: ${problem}`);
    if (cleanupProblems.length > 0) failure ??= new Error(`the clean-up failed (topics, groups or the database may be left behind): ${cleanupProblems.join('; ')}`);
  }
  // A stalled pipeline still gets its report (what was measured until then); anything else fails here.
  if (failure && !(failure instanceof PipelineStalled)) throw failure;
  if (failure) problems.unshift(`the run stopped early: ${(failure as Error).message} (${diagnosis})`);

  // ------------------------------------------------------------------------------------------
  // Report

  if (streamErrors.length > 0) problems.push(`${streamErrors.length} subscription error(s); first: ${streamErrors[0]}`);
  if (strayConfirmations.length > 0) problems.push(`${strayConfirmations.length} CONFIRMED on another customer's subscription; first: ${strayConfirmations[0]}`);
  for (const c of consumers.filter((p) => p.exit && p.exit.code !== 0)) {
    problems.push(`consumer ${c.name} ended with ${JSON.stringify(c.exit)} ${exitedBeforeCleanup.has(c.name) ? 'during the run' : 'when stopped (SIGTERM)'}; its last lines: ${c.tail.slice(-5).join(' | ')}`);
  }
  const drain = drainFigure(machine);
  const halfLoadP99 = measurement?.requestToConfirmedMs?.p99 ?? null;
  const report = {
    benchmark: 'end-to-end',
    timestamp,
    passed: problems.length === 0,
    problems,
    machine: describeMachine(loadAtStart),
    parameters: {
      rateLimits: config.limits, // set explicitly (bench/support/rate-limits.ts)
      customers: params.customers,
      rates: params.rates,
      stepSeconds: params.stepSeconds,
      bisectSteps: params.bisectSteps,
      searchSeconds: params.searchSeconds,
      lagSettleSeconds: params.lagSettleSeconds,
      lagMargin: params.lagMargin,
      allowedLagGrowth: 'max(BENCH_E2E_LAG_MARGIN, rate × 0.5 s)',
      drainSeconds: params.drainSeconds,
      recoverSeconds: params.recoverSeconds,
      measureSeconds: params.measureSeconds,
      idempotencyKeys: params.idempotencyKeys,
      paymentToken: params.paymentToken,
      load: 'open loop: order i sent at start + i/rate by customer i mod C over HTTP (fetch), each customer one graphql-ws connection with an orderConfirmed subscription',
      topicPartitions: config.kafka.topicPartitions,
      kafkaBrokers: config.kafka.brokers,
      store: inject('mongoUrl'),
      processes: `one API instance, the customers and the SMTP server in the benchmark process; ${CONSUMER_MODULES.map((m) => `node dist/consumers/${m}.js`).join(', ')} (LOG_LEVEL=${params.logLevel})`,
    },
    sustainableRate,
    /** Why the run ended before its measurement, when it did (the watchdog: see STALL_MS and GROUP_LOST_MS). */
    stoppedEarly: failure ? (failure as Error).message : null,
    search: { stoppedBecause: searchStoppedBecause, steps },
    halfLoad: measurement ? { rate: measureRate, ...measurement, targetP99Ms: 250, meetsTarget: halfLoadP99 !== null && halfLoadP99 <= 250 } : null,
    emailsReceived: smtp?.received() ?? 0,
    duplicateConfirmationsOnSubscriptions: duplicateConfirmations,
    /** Output lines of each consumer process (at LOG_LEVEL=warn: warnings and worse) and the first few. */
    consumerOutput: Object.fromEntries(consumers.map((c) => [c.name, { lines: c.warnings, first: c.first }])),
    ratios: {
      /** sustainableRate ÷ the drain benchmark's orders/s; null until someone merges it (see endToEndVsDrainSource). */
      endToEndVsDrain: 'ordersPerSecond' in drain && sustainableRate !== null ? Math.round((sustainableRate / drain.ordersPerSecond) * 100) / 100 : null,
      endToEndVsDrainSource:
        'ordersPerSecond' in drain
          ? `computed from ${drain.source} (drain ${drain.ordersPerSecond} orders/s, written ${drain.timestamp})`
          : `not computed: ${drain.missing}; endToEndVsDrain = sustainableRate / drain orders/s`,
    },
    totalSeconds: seconds(performance.now() - started),
  };

  const ms = (s: LatencySummary | null, k: 'p50' | 'p95' | 'p99') => s?.[k] ?? '-';
  console.log(
    [
      '',
      `end to end — ${params.customers} customers, ${machine.cpus} CPUs, Node ${process.version}; ${params.idempotencyKeys ? 'unique idempotency keys' : 'no idempotency key'}`,
      table(
        ['step', 'target/s', 'sent/s', 'lag', 'placeOrder queue', 'allowed growth', 'confirmed', 'placeOrder p99', 'req→CONFIRMED p50', 'p99', 'sustainable'],
        steps.map((s) => [
          `${s.step}`,
          s.targetRate,
          s.sentPerSecond,
          `${s.lagEarly ?? '-'} → ${s.lagEnd ?? '-'}`,
          `${s.waitingEarly ?? '-'} → ${s.waitingEnd ?? '-'}`,
          s.allowedLagGrowth,
          `${s.confirmedWithinDrainBound}/${s.sent}`,
          ms(s.placeOrderMs, 'p99'),
          ms(s.requestToConfirmedMs, 'p50'),
          ms(s.requestToConfirmedMs, 'p99'),
          s.sustainable ? 'yes' : `NO: ${s.why}`,
        ]),
      ),
      `sustainable rate: ${sustainableRate === null ? 'none found' : `${sustainableRate} orders/s`} (${searchStoppedBecause || 'the run stopped during the search'})`,
      '',
      ...(measurement
        ? [
            `half load: ${measureRate}/s for ${params.measureSeconds} s — ${measurement.sent} orders, ${measurement.confirmed} CONFIRMED, ${measurement.failed} failed, max transactions lag ${measurement.lagMax ?? '-'}`,
            table(['latency (ms)', 'n', 'p50', 'p95', 'p99', 'max'], [
              ['placeOrder → PLACED', measurement.placeOrderMs?.count ?? 0, ms(measurement.placeOrderMs, 'p50'), ms(measurement.placeOrderMs, 'p95'), ms(measurement.placeOrderMs, 'p99'), measurement.placeOrderMs?.max ?? '-'],
              ['request → CONFIRMED', measurement.requestToConfirmedMs?.count ?? 0, ms(measurement.requestToConfirmedMs, 'p50'), ms(measurement.requestToConfirmedMs, 'p95'), ms(measurement.requestToConfirmedMs, 'p99'), measurement.requestToConfirmedMs?.max ?? '-'],
            ]),
            `request → CONFIRMED p99 ${halfLoadP99 ?? '-'} ms (target ≤ 250: ${report.halfLoad?.meetsTarget ? 'met' : 'NOT met'})`,
          ]
        : ['half load: not measured (the run stopped before)']),
      `emails received ${report.emailsReceived}`,
      `endToEndVsDrain: ${report.ratios.endToEndVsDrain ?? '-'} (${report.ratios.endToEndVsDrainSource})`,
      `correctness: ${report.passed ? 'PASSED' : 'FAILED'}`,
      ...problems.map((p) => `  problem: ${p}`),
      `total ${report.totalSeconds} s`,
    ].join('\n'),
  );
  await mkdir(path.dirname(params.output), { recursive: true });
  await writeFile(params.output, `${JSON.stringify(report, null, 2)}\n`);
  say(`figures written to ${path.relative(process.cwd(), params.output)}`);
  const profiled = await profile.stop();
  if (profiled) say(`CPU profile of this process written to ${profiled}`);

  if (!report.passed) throw new Error(`the benchmark found problems: ${problems.join('; ')}`);
});
