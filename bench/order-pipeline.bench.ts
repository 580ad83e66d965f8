/**
 * Order pipeline benchmark: the real local Kafka and FerretDB (found running, or started by the
 * global setup, which stops only what it started), a Kafka namespace and a database of its
 * own, one API instance and the four consumer modules in this process. N customers, each with
 * its own token and graphql-ws connection (an `orderStatusChanged` subscription to all of its
 * orders, opened before it orders), place orders over HTTP (`placeOrder`, tok_visa) and it
 * measures:
 *
 * - placeOrder latency, request → response with PLACED (the order.placed produce, acks=all),
 *   and its throughput;
 * - time from that response to CONFIRMED arriving on the customer's subscription
 *   (transactions consumer → order.status-changed → the API's subscription group → socket);
 * - request → CONFIRMED (end to end) and the pipeline's throughput (orders confirmed per s).
 *
 * Each customer first places one warm-up order and waits for its CONFIRMED (its subscription
 * is live from then on; the path is warm); warm-up orders are checked but not measured. At the
 * end it checks every order: CONFIRMED in the read model, exactly one captured transaction and
 * one captured gateway charge each, CONFIRMED seen on the subscription, no dead letters. It
 * prints progress every few seconds and a table at the end, writes the figures as JSON
 * (bench/results/order-pipeline.json), removes its topics, groups and database, and fails
 * (exit code 1) when any order failed.
 *
 *   npm run bench
 *   BENCH_ORDERS=50 BENCH_CONCURRENCY=5 npm run bench
 *
 * Parameters (environment variables, since vitest owns the command line):
 *   BENCH_ORDERS            measured orders in all                                        500
 *   BENCH_CONCURRENCY       customers ordering at the same time (one socket each)          20
 *   BENCH_WAIT_CONFIRMED    1: a customer waits for CONFIRMED before its next order;
 *                           0: it orders again as soon as placeOrder answers              0
 *   BENCH_MAX_SECONDS       no new order is placed after this long                        300
 *   BENCH_DRAIN_SECONDS     how long CONFIRMED and the read model may lag at the end       120
 *   BENCH_PROGRESS_SECONDS  progress line interval                                          3
 *   BENCH_LOG_LEVEL         pino level of the API and consumers                          error
 *   BENCH_OUTPUT            where the JSON goes           bench/results/order-pipeline.json
 * KAFKA_TOPIC_PARTITIONS and the other product variables apply as usual.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import type { Admin } from 'kafkajs';
import mongoose, { type Connection } from 'mongoose';
import { it } from 'vitest';
import { signAccessToken } from '../src/auth/access-token';
import { createAnalyticsConsumer } from '../src/consumers/analytics.consumer';
import { createConfirmationsConsumer } from '../src/consumers/confirmations.consumer';
import { createOrderAuthority } from '../src/consumers/order-authority.consumer';
import { createOrdersProjector } from '../src/consumers/orders-projector.consumer';
import { createTransactionsConsumer } from '../src/consumers/transactions.consumer';
import { deadLetterTopic, physicalTopic, TOPICS } from '../src/events/topics';
import { startApiServer, type ApiServer } from '../src/http/api-server';
import { startConsumer, type RunningConsumer } from '../src/kafka/consumer-runner';
import { createLogger } from '../src/logger';
import { orderModel } from '../src/mongo/models/order.model';
import { transactionModel } from '../src/mongo/models/transaction.model';
import { gatewayLedgerModel } from '../src/payments/gateway-ledger.model';
import { wsClient } from '../test/support/api-harness';
import { removeTestNamespace, testConfig, testKafka, uniqueMongoUrl, uniqueName } from '../test/support/services';
import { BENCH_RATE_LIMITS } from './support/rate-limits';
import * as ops from '../test/generated/graphql';
import { perSecond, seconds, summarise, table, type LatencySummary } from './support/figures';
import { withTimeout } from '../src/retry';
import { describeMachine } from './support/machine';
import { whole } from './support/params';

// ---------------------------------------------------------------------------------------------
// Parameters

const params = {
  orders: whole('BENCH_ORDERS', 500, 1, 100_000),
  concurrency: whole('BENCH_CONCURRENCY', 20, 1, 500),
  waitForConfirmation: whole('BENCH_WAIT_CONFIRMED', 0, 0, 1) === 1,
  maxSeconds: whole('BENCH_MAX_SECONDS', 300, 1, 3600),
  drainSeconds: whole('BENCH_DRAIN_SECONDS', 120, 1, 3600),
  progressSeconds: whole('BENCH_PROGRESS_SECONDS', 3, 1, 60),
  logLevel: process.env.BENCH_LOG_LEVEL?.trim() || 'error',
  output: path.resolve(__dirname, '..', process.env.BENCH_OUTPUT?.trim() || 'bench/results/order-pipeline.json'),
  paymentToken: 'tok_visa',
  warmupOrdersPerCustomer: 1,
  idempotencyKeys: true,
};

/** Set-up, warm-up, check and clean-up get this much on top of the measuring and draining budgets. */
const FIXED_BUDGET_MS = 240_000;
const REQUEST_TIMEOUT_MS = 30_000;
const WARMUP_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;

/** What customers order, in turn: every restaurant, one to three lines. */
const BASKETS: readonly ops.PlaceOrderInput[] = [
  { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }], deliveryAddress: '', paymentToken: '' },
  { restaurantId: 'sushi-sakura', items: [{ menuItemId: 'salmon-nigiri', quantity: 3 }, { menuItemId: 'miso-soup', quantity: 1 }], deliveryAddress: '', paymentToken: '' },
  { restaurantId: 'green-bowl', items: [{ menuItemId: 'falafel-bowl', quantity: 1 }, { menuItemId: 'quinoa-salad', quantity: 2 }], deliveryAddress: '', paymentToken: '' },
  { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'diavola', quantity: 1 }], deliveryAddress: '', paymentToken: '' },
  { restaurantId: 'sushi-sakura', items: [{ menuItemId: 'california-roll', quantity: 2 }, { menuItemId: 'salmon-nigiri', quantity: 1 }, { menuItemId: 'miso-soup', quantity: 2 }], deliveryAddress: '', paymentToken: '' },
];

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[bench ${elapsed()}] ${message}`);

// ---------------------------------------------------------------------------------------------
// The run's state

interface Customer {
  readonly index: number;
  readonly id: string;
  readonly token: string;
  readonly client: Client;
}

interface PlacedOrder {
  readonly orderId: string;
  readonly customer: number;
  readonly warmup: boolean;
  /** performance.now() when the request went out and when PLACED came back. */
  readonly sentAt: number;
  readonly placedAt: number;
}

const placed: PlacedOrder[] = [];
const placeErrors: string[] = [];
/** First arrival of CONFIRMED per order on its customer's subscription (performance.now()). */
const confirmedAt = new Map<string, number>();
/** Any other status that ended an order, as seen on the subscription. */
const otherOutcome = new Map<string, string>();
const waiters = new Map<string, () => void>();
const streamErrors: string[] = [];
let duplicateConfirmations = 0;
/** What the progress line says outside the measuring and draining phases. */
let activity = 'starting';

function onStatus(update: { orderId: string; status: string }): void {
  if (update.status === 'CONFIRMED') {
    if (confirmedAt.has(update.orderId)) duplicateConfirmations += 1;
    else confirmedAt.set(update.orderId, performance.now());
  } else if (update.status !== 'PLACED') {
    otherOutcome.set(update.orderId, update.status);
  }
  if (update.status !== 'PLACED') waiters.get(update.orderId)?.();
}

/** Resolves true once the order's CONFIRMED arrived (or another final status), false after timeoutMs. */
function settled(orderId: string, timeoutMs: number): Promise<boolean> {
  if (confirmedAt.has(orderId) || otherOutcome.has(orderId)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiters.delete(orderId);
      resolve(false);
    }, timeoutMs);
    waiters.set(orderId, () => {
      clearTimeout(timer);
      waiters.delete(orderId);
      resolve(true);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A customer's app

const PLACE_ORDER = print(ops.PlaceOrderDocument);
const STATUS_STREAM = print(ops.OrderStatusChangedDocument);
const runId = randomBytes(4).toString('hex');

async function connectCustomer(index: number, websocketUrl: string, jwtSecret: string): Promise<Customer> {
  const id = `bench-customer-${runId}-${index}`;
  const token = await signAccessToken({ sub: id, role: 'CUSTOMER', email: `customer-${index}@bench.example` }, jwtSecret, { expiresInSeconds: 4 * 3600 });
  const client = wsClient(websocketUrl, token);
  const connected = new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve());
    client.on('closed', (event) => reject(new Error(`customer ${index}: the socket closed before it was acknowledged (${JSON.stringify(event)})`)));
  });
  client.subscribe<ops.OrderStatusChangedSubscription>(
    { query: STATUS_STREAM, variables: {} },
    {
      next: (result) => {
        if (result.errors) streamErrors.push(`customer ${index}: ${JSON.stringify(result.errors)}`);
        if (result.data) onStatus(result.data.orderStatusChanged);
      },
      error: (error) => streamErrors.push(`customer ${index}: ${error instanceof Error ? error.message : JSON.stringify(error)}`),
      complete: () => undefined,
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

/** One placeOrder over HTTP as the app sends it; the order, or why it was not placed. */
async function placeOrder(url: string, customer: Customer, n: number, warmup: boolean): Promise<PlacedOrder | string> {
  const basket = BASKETS[n % BASKETS.length]!;
  const input: ops.PlaceOrderInput = {
    ...basket,
    deliveryAddress: `${n + 1} Benchmark Street`,
    paymentToken: params.paymentToken,
    idempotencyKey: params.idempotencyKeys ? `${runId}-${warmup ? 'warmup-' : ''}${n}` : null,
  };
  const sentAt = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
      body: JSON.stringify({ query: PLACE_ORDER, variables: { input } }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const answer = (await response.json()) as { data?: ops.PlaceOrderMutation | null; errors?: { message: string; extensions?: { code?: string } }[] };
    const placedAt = performance.now();
    const order = answer.data?.placeOrder;
    if (answer.errors?.length || order?.status !== 'PLACED') {
      const error = answer.errors?.[0];
      return `HTTP ${response.status}: ${error ? `${error.extensions?.code ?? 'ERROR'} ${error.message}` : `status ${order?.status ?? 'none'}`}`;
    }
    return { orderId: order.id, customer: customer.index, warmup, sentAt, placedAt };
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

interface Correctness {
  readonly passed: boolean;
  readonly problems: string[];
  readonly ordersChecked: number;
  readonly confirmedOnSubscription: number;
  readonly duplicateConfirmationsOnSubscription: number;
  readonly confirmedInReadModel: number;
  /** How long after the last CONFIRMED on a subscription the read model showed them all. */
  readonly readModelCaughtUpAfterMs: number | null;
  readonly capturedTransactions: number;
  readonly gatewayCharges: number;
  readonly gatewayChargesAskedMoreThanOnce: number;
  readonly orderConfirmedEvents: number;
  readonly deadLetters: number;
}

const some = (ids: readonly string[]) => `${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}`;

async function sumOfHighWatermarks(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

async function checkEveryOrder(mongo: Connection, admin: Admin, config: ReturnType<typeof testConfig>, notPlaced: number): Promise<Correctness> {
  const problems: string[] = [];
  const ids = placed.map((o) => o.orderId);
  const expected = new Set(ids);
  if (placeErrors.length > 0) problems.push(`${placeErrors.length} placeOrder call(s) failed; first: ${placeErrors[0]}`);
  if (notPlaced > 0) problems.push(`${notPlaced} order(s) were not placed within BENCH_MAX_SECONDS (${params.maxSeconds})`);
  if (streamErrors.length > 0) problems.push(`${streamErrors.length} subscription error(s); first: ${streamErrors[0]}`);

  const notConfirmed = ids.filter((id) => !confirmedAt.has(id));
  if (notConfirmed.length > 0) {
    const other = notConfirmed.filter((id) => otherOutcome.has(id)).map((id) => `${id} ${otherOutcome.get(id)}`);
    problems.push(`${notConfirmed.length} order(s) never showed CONFIRMED on the subscription: ${some(notConfirmed)}${other.length ? ` (ended otherwise: ${some(other)})` : ''}`);
  }

  // The projector writes the read model on its own schedule: give it the drain budget to catch up.
  const orders = orderModel(mongo);
  const lastConfirmation = Math.max(0, ...confirmedAt.values());
  const deadline = Date.now() + params.drainSeconds * 1000;
  let confirmedInReadModel = 0;
  while ((confirmedInReadModel = await orders.countDocuments({ status: 'CONFIRMED' })) < ids.length && Date.now() < deadline) {
    activity = `waiting for the orders projector: ${confirmedInReadModel}/${ids.length} CONFIRMED in the read model`;
    await sleep(250);
  }
  activity = 'checking transactions, gateway charges and dead letters';
  const readModelCaughtUpAfterMs = confirmedInReadModel >= ids.length ? Math.max(0, performance.now() - lastConfirmation) : null;
  const inReadModel = new Map((await orders.find({}, { status: 1 }).lean()).map((o) => [o._id, o.status]));
  const notConfirmedInReadModel = ids.filter((id) => inReadModel.get(id) !== 'CONFIRMED');
  if (notConfirmedInReadModel.length > 0) {
    const seen = notConfirmedInReadModel.map((id) => `${id} ${inReadModel.get(id) ?? 'missing'}`);
    problems.push(`${notConfirmedInReadModel.length} order(s) not CONFIRMED in the read model: ${some(seen)}`);
  }
  const strangers = [...inReadModel.keys()].filter((id) => !expected.has(id));
  if (strangers.length > 0) problems.push(`${strangers.length} order(s) in the read model that were never placed: ${some(strangers)}`);

  const transactions = await transactionModel(mongo).find({}, { status: 1 }).lean();
  const captured = new Set(transactions.filter((t) => t.status === 'captured').map((t) => t._id));
  const notCaptured = ids.filter((id) => !captured.has(id));
  if (notCaptured.length > 0) problems.push(`${notCaptured.length} order(s) without a captured transaction: ${some(notCaptured)}`);
  const extraTransactions = transactions.filter((t) => !expected.has(t._id)).map((t) => `${t._id} ${t.status}`);
  if (extraTransactions.length > 0) problems.push(`${extraTransactions.length} transaction(s) for orders never placed: ${some(extraTransactions)}`);

  const charges = await gatewayLedgerModel(mongo).find({ kind: 'charge' }, { idempotencyKey: 1, status: 1, requests: 1 }).lean();
  const chargesPerOrder = new Map<string, number>();
  for (const c of charges) if (c.status === 'captured') chargesPerOrder.set(c.idempotencyKey, (chargesPerOrder.get(c.idempotencyKey) ?? 0) + 1);
  const notChargedOnce = ids.filter((id) => chargesPerOrder.get(id) !== 1).map((id) => `${id} ×${chargesPerOrder.get(id) ?? 0}`);
  if (notChargedOnce.length > 0) problems.push(`${notChargedOnce.length} order(s) not captured exactly once by the gateway: ${some(notChargedOnce)}`);
  const strayCharges = charges.filter((c) => !expected.has(c.idempotencyKey) || c.status !== 'captured').map((c) => `${c.idempotencyKey} ${c.status}`);
  if (strayCharges.length > 0) problems.push(`${strayCharges.length} unexpected gateway charge(s): ${some(strayCharges)}`);

  const deadLetterCounts = await Promise.all(Object.values(TOPICS).map((t) => sumOfHighWatermarks(admin, physicalTopic(config, deadLetterTopic(t)))));
  const deadLetters = deadLetterCounts.reduce((a, b) => a + b, 0);
  if (deadLetters > 0) problems.push(`${deadLetters} message(s) were dead-lettered`);
  const orderConfirmedEvents = await sumOfHighWatermarks(admin, physicalTopic(config, TOPICS.orderConfirmed));

  return {
    passed: problems.length === 0,
    problems,
    ordersChecked: ids.length,
    confirmedOnSubscription: ids.length - notConfirmed.length,
    duplicateConfirmationsOnSubscription: duplicateConfirmations,
    confirmedInReadModel: ids.length - notConfirmedInReadModel.length,
    readModelCaughtUpAfterMs: readModelCaughtUpAfterMs === null ? null : Math.round(readModelCaughtUpAfterMs),
    capturedTransactions: ids.length - notCaptured.length,
    gatewayCharges: charges.length,
    gatewayChargesAskedMoreThanOnce: charges.filter((c) => c.requests > 1).length,
    orderConfirmedEvents,
    deadLetters,
  };
}

// ---------------------------------------------------------------------------------------------
// The benchmark

const budgetMs = (params.maxSeconds + params.drainSeconds * 2) * 1000 + FIXED_BUDGET_MS;

it(`order pipeline: ${params.orders} orders by ${params.concurrency} customers`, { timeout: budgetMs }, async () => {
  const timestamp = new Date().toISOString();
  const loadAtStart = loadavg();
  const name = 'bench-order-pipeline';
  const jwtSecret = randomBytes(24).toString('hex');
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName(name), MONGO_URL: uniqueMongoUrl(name), JWT_SECRET: jwtSecret, ...BENCH_RATE_LIMITS, LOG_LEVEL: params.logLevel });
  const log = createLogger(name, { level: params.logLevel });
  const phases: Record<string, number> = {};
  let phase = 'setup';
  let phaseStart = performance.now();
  const enter = (next: string) => {
    phases[phase] = seconds(performance.now() - phaseStart);
    phase = next;
    phaseStart = performance.now();
    activity = next === 'warmup' ? 'warming up' : next === 'check' ? 'checking every order' : next;
  };

  say(`order pipeline: ${params.orders} orders by ${params.concurrency} customers, ${params.waitForConfirmation ? 'each waiting for CONFIRMED before ordering again' : 'each ordering again as soon as placeOrder answers'}`);
  say(`namespace ${config.kafka.namespace} (${config.kafka.topicPartitions} partitions per topic) on ${config.kafka.brokers.join(',')}, database ${new URL(config.mongo.url).pathname.slice(1)}`);

  let api: ApiServer | undefined;
  const consumers: RunningConsumer[] = [];
  const customers: Customer[] = [];
  let mongo: Connection | undefined;
  let admin: Admin | undefined;
  const measured: PlacedOrder[] = [];
  const confirmedCount = (orders: readonly PlacedOrder[]) => orders.filter((o) => confirmedAt.has(o.orderId)).length;
  let measureStart = 0;
  let measureEnd = 0;
  let correctness: Correctness | undefined;
  let failure: unknown;
  const progress = setInterval(() => {
    if (phase === 'measure') {
      const rate = perSecond(measured.length, performance.now() - measureStart);
      say(`placed ${measured.length}/${params.orders} (${rate}/s), confirmed ${confirmedCount(measured)}, failed ${placeErrors.length}`);
    } else if (phase === 'warmup') {
      say(`warming up: ${confirmedCount(placed)}/${customers.length * params.warmupOrdersPerCustomer} warm-up orders CONFIRMED`);
    } else if (phase === 'drain') {
      say(`waiting for CONFIRMED: ${confirmedCount(measured)}/${measured.length}`);
    } else {
      say(`${activity}…`);
    }
  }, params.progressSeconds * 1000);
  progress.unref();

  /** Awaits every start; whatever started is kept for the clean-up even when another start failed. */
  async function startAll<T>(starts: readonly Promise<T>[], into: T[]): Promise<void> {
    const results = await Promise.allSettled(starts);
    for (const r of results) if (r.status === 'fulfilled') into.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  try {
    say('starting the API and the transactions, order-authority, confirmations, analytics and orders-projector consumers in-process…');
    api = await startApiServer(config, log, { port: 0 });
    await api.subscriptionsReady();
    const options = { config, log };
    await startAll(
      [
        startConsumer(createTransactionsConsumer(), options),
        startConsumer(createOrderAuthority(), options),
        startConsumer(createConfirmationsConsumer(), options),
        startConsumer(createAnalyticsConsumer(), options),
        startConsumer(createOrdersProjector(), options),
      ],
      consumers,
    );
    await Promise.all(consumers.map((c) => c.joined));
    mongo = await mongoose.createConnection(config.mongo.url).asPromise();
    admin = testKafka().admin();
    await admin.connect();
    say(`API on ${api.graphqlUrl}, consumers joined their groups; connecting ${params.concurrency} customers over graphql-ws…`);
    const { graphqlUrl, websocketUrl } = api;
    await startAll(Array.from({ length: params.concurrency }, (_, i) => connectCustomer(i, websocketUrl, jwtSecret)), customers);

    enter('warmup');
    say(`warm-up: each customer places ${params.warmupOrdersPerCustomer} order and waits for its CONFIRMED on the subscription…`);
    await Promise.all(
      customers.map(async (customer) => {
        for (let w = 0; w < params.warmupOrdersPerCustomer; w += 1) {
          const order = await placeOrder(graphqlUrl, customer, customer.index * params.warmupOrdersPerCustomer + w, true);
          if (typeof order === 'string') throw new Error(`warm-up order of customer ${customer.index} failed: ${order}`);
          placed.push(order);
          if (!(await settled(order.orderId, WARMUP_TIMEOUT_MS))) {
            throw new Error(`customer ${customer.index}'s subscription did not show CONFIRMED for warm-up order ${order.orderId} within ${WARMUP_TIMEOUT_MS} ms`);
          }
        }
      }),
    );

    enter('measure');
    say(`measuring: ${params.orders} orders…`);
    let next = 0;
    const placeDeadline = performance.now() + params.maxSeconds * 1000;
    measureStart = performance.now();
    await Promise.all(
      customers.map(async (customer) => {
        // Bounded by the order count and by BENCH_MAX_SECONDS.
        for (let n = next++; n < params.orders && performance.now() < placeDeadline; n = next++) {
          const order = await placeOrder(graphqlUrl, customer, n, false);
          if (typeof order === 'string') {
            placeErrors.push(`order ${n}: ${order}`);
            continue;
          }
          placed.push(order);
          measured.push(order);
          if (params.waitForConfirmation) await settled(order.orderId, params.drainSeconds * 1000);
        }
      }),
    );
    measureEnd = performance.now();
    if (measured.length + placeErrors.length < params.orders) say(`BENCH_MAX_SECONDS (${params.maxSeconds}) reached: ${params.orders - measured.length - placeErrors.length} order(s) not placed`);

    enter('drain');
    say(`placed ${measured.length} in ${seconds(measureEnd - measureStart)} s; waiting for the rest of CONFIRMED (at most ${params.drainSeconds} s)…`);
    await Promise.all(measured.map((o) => settled(o.orderId, params.drainSeconds * 1000)));

    enter('check');
    say('checking every order: read model, transactions, gateway charges, dead letters…');
    correctness = await checkEveryOrder(mongo, admin, config, params.orders - measured.length - placeErrors.length);
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(progress);
    enter('cleanup');
    say('cleaning up: sockets, consumers, API, then the namespace’s topics and groups and the database…');
    await Promise.all(customers.map((c) => c.client.dispose()));
    const stopping = await Promise.allSettled([...consumers.map((c) => c.stop()), api?.stop()]);
    await admin?.disconnect().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    const removal = await Promise.allSettled([removeTestNamespace(config.kafka.namespace, config.mongo.url)]);
    const cleanupProblems = [...stopping, ...removal].filter((r) => r.status === 'rejected').map((r) => String(r.reason));
    for (const problem of cleanupProblems) say(`clean-up problem: ${problem}`);
    if (cleanupProblems.length > 0) failure ??= new Error(`the clean-up failed (topics, groups or the database may be left behind): ${cleanupProblems.join('; ')}`);
    enter('done');
  }
  if (failure) throw failure;

  // ------------------------------------------------------------------------------------------
  // Figures

  const placeLatency = summarise(measured.map((o) => o.placedAt - o.sentAt));
  const confirmed = measured.filter((o) => confirmedAt.has(o.orderId));
  const toConfirmed = confirmed.map((o) => confirmedAt.get(o.orderId)! - o.placedAt);
  const confirmLatency = summarise(toConfirmed);
  const endToEnd = summarise(confirmed.map((o) => confirmedAt.get(o.orderId)! - o.sentAt));
  const lastConfirmed = Math.max(measureStart, ...confirmed.map((o) => confirmedAt.get(o.orderId)!));
  const report = {
    benchmark: 'order-pipeline',
    timestamp,
    passed: correctness!.passed,
    problems: correctness!.problems,
    machine: describeMachine(loadAtStart),
    parameters: {
      rateLimits: config.limits, // set explicitly (bench/support/rate-limits.ts)
      orders: params.orders,
      concurrency: params.concurrency,
      waitForConfirmation: params.waitForConfirmation,
      warmupOrdersPerCustomer: params.warmupOrdersPerCustomer,
      paymentToken: params.paymentToken,
      idempotencyKeys: params.idempotencyKeys,
      maxSeconds: params.maxSeconds,
      drainSeconds: params.drainSeconds,
      topicPartitions: config.kafka.topicPartitions,
      kafkaBrokers: config.kafka.brokers,
      processes: 'one API instance and the four consumer modules (one instance each) in the benchmark process',
    },
    results: {
      placeOrder: {
        orders: measured.length,
        failed: placeErrors.length,
        durationSeconds: seconds(measureEnd - measureStart),
        throughputPerSecond: perSecond(measured.length, measureEnd - measureStart),
        latencyMs: placeLatency,
      },
      placedToConfirmed: {
        orders: confirmed.length,
        /** CONFIRMED reached the socket before the placeOrder response reached the client: negative samples. */
        confirmedBeforeResponse: toConfirmed.filter((ms) => ms < 0).length,
        latencyMs: confirmLatency,
      },
      requestToConfirmed: { latencyMs: endToEnd },
      pipeline: {
        /** Measured orders confirmed per second, first request to last CONFIRMED. */
        throughputPerSecond: perSecond(confirmed.length, lastConfirmed - measureStart),
        durationSeconds: seconds(lastConfirmed - measureStart),
      },
    },
    correctness: correctness!,
    phasesSeconds: phases,
    totalSeconds: seconds(performance.now() - started),
  };

  const row = (label: string, s: LatencySummary | null) => (s ? [label, s.count, s.p50, s.p95, s.p99, s.max, s.mean] : [label, 0, '-', '-', '-', '-', '-']);
  console.log(
    [
      '',
      `order pipeline — ${measured.length} orders, ${params.concurrency} customers, ${report.machine.cpus} CPUs, Node ${process.version}`,
      table(['latency (ms)', 'n', 'p50', 'p95', 'p99', 'max', 'mean'], [
        row('placeOrder → PLACED', placeLatency),
        row('PLACED → CONFIRMED (ws)', confirmLatency),
        row('request → CONFIRMED', endToEnd),
      ]),
      '',
      table(['throughput', 'orders/s', 'seconds'], [
        ['placeOrder', report.results.placeOrder.throughputPerSecond, report.results.placeOrder.durationSeconds],
        ['confirmed (pipeline)', report.results.pipeline.throughputPerSecond, report.results.pipeline.durationSeconds],
      ]),
      '',
      `correctness: ${report.passed ? 'PASSED' : 'FAILED'} — ${correctness!.ordersChecked} orders (incl. ${customers.length * params.warmupOrdersPerCustomer} warm-up): ` +
        `${correctness!.confirmedInReadModel} CONFIRMED in the read model, ${correctness!.capturedTransactions} captured transactions, ` +
        `${correctness!.gatewayCharges} gateway charges, ${correctness!.confirmedOnSubscription} CONFIRMED on subscriptions, ${correctness!.deadLetters} dead letters`,
      ...correctness!.problems.map((p) => `  problem: ${p}`),
      `phases (s): ${Object.entries(phases).map(([k, v]) => `${k} ${v}`).join(', ')}; total ${report.totalSeconds} s`,
    ].join('\n'),
  );
  await mkdir(path.dirname(params.output), { recursive: true });
  await writeFile(params.output, `${JSON.stringify(report, null, 2)}\n`);
  say(`figures written to ${path.relative(process.cwd(), params.output)}`);

  if (!report.passed) throw new Error(`the benchmark's orders did not all go through: ${correctness!.problems.join('; ')}`);
});
