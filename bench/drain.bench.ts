/**
 * Backlog-drain benchmark: how fast the product works off a backlog of orders, next to two
 * baselines measured in the same run, on the same broker and store. Kafka and FerretDB are
 * found running or started by the global setup (which stops only what it started). Three
 * pipelines, one after the other, each on fresh topics of its own (a Kafka namespace of its own)
 * and, where it stores anything, a database of its own:
 *
 * 1. drain — the product. N valid `order.placed` events (tok_visa, customer emails, baskets from
 *    the demo catalog) are produced first into the namespace's order.placed topic (topics made
 *    by the product's ensureTopics, KAFKA_TOPIC_PARTITIONS partitions), then the four consumer
 *    modules start, each its own OS process (`node dist/consumers/<name>.js`), with SMTP_URL
 *    pointing at a real SMTP server in this process that counts what it receives. Measured:
 *    from the processes' start (and from the first consumer group joined) until the end state
 *    holds for all N — every order charged (one captured transaction), CONFIRMED in the orders
 *    read model, one email received per order, analytics' global ordersConfirmed = N — reading
 *    the store with small queries (`endState` below: the one place that knows where the
 *    consumers keep their results). Also when each module finished.
 * 2. seed pipeline — the project's starting point re-created in Python with kafka-python and
 *    its default client settings (bench/seed-pipeline/): producer.py sends N orders as JSON to
 *    order_details (1 partition); transaction.py turns each into an order_confirmed message
 *    (1 partition); email_service.py and analytics.py (count, revenue) each consume
 *    order_confirmed; no consumer commits, nothing is stored. Measured: from the first order
 *    sent to the analytics service counting the N-th. kafka-python lives in a virtualenv in
 *    the local state folder (.local/bench-venv), installed from PyPI on first use.
 * 3. bare kafkajs — the library underneath, with nothing of the product: the same N order.placed
 *    payloads produced to a topic of its own (same partitions), then one kafkajs consumer group
 *    with eachBatch: one insertMany (ordered: false) per batch into a collection, then commit.
 *    Measured: from the start of consuming (connect) to N documents inserted (also from joined).
 * 4. store ceiling — the writes the drain makes for the same N orders, issued straight through
 *    the driver in bulk against the same store, one stream per consumer process
 *    (support/store-ceiling.ts): the store's own cost, so the drain's cost beyond it is visible.
 *
 * Every pipeline is bounded by BENCH_DRAIN_MAX_SECONDS; one that does not finish is recorded
 * with how far it got and its rate so far (`complete: false`). It prints progress, a table,
 * and writes the figures with machine info and the ratios of the product's rate to each
 * baseline's to bench/results/drain.json; it removes its topics, groups and databases. It fails
 * (after writing the JSON) only on a problem — a consumer process that died, a dead letter, a
 * duplicate email, an order counted twice — never because a pipeline was too slow.
 *
 *   ./dev bench drain
 *   BENCH_DRAIN_ORDERS=200 npx vitest run --config bench/vitest.bench.config.mts bench/drain.bench.ts
 *
 * Parameters (environment variables, since vitest owns the command line):
 *   BENCH_DRAIN_ORDERS            orders in each pipeline's backlog                       20000
 *   BENCH_DRAIN_MAX_SECONDS       bound of each pipeline (from its start to its end)        300
 *   BENCH_DRAIN_PROGRESS_SECONDS  progress line interval                                      5
 *   BENCH_DRAIN_POLL_SECONDS      how often the product's end state is read from the store    1
 *   BENCH_DRAIN_PIPELINES         which pipelines run, comma-separated  drain,seed,kafkajs,store
 *   BENCH_DRAIN_LOG_LEVEL         LOG_LEVEL of the consumer processes                      warn
 *   BENCH_DRAIN_OUTPUT            where the JSON goes                 bench/results/drain.json
 *   BENCH_DRAIN_NODE_ARGS         node flags of the consumer processes, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'  (none)
 *   BENCH_DRAIN_API               1: an API process listens beside the drain (no client): its CPU per order read (cpu.api)  0
 * KAFKA_TOPIC_PARTITIONS and the other product variables apply as usual.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners, type Admin, type Message } from 'kafkajs';
import mongoose, { type Connection } from 'mongoose';
import { inject, it } from 'vitest';
import { CONSUMER_MODULE_NAMES } from '../src/consumers/modules';
import { CATALOG } from '../src/catalog/catalog.fixture';
import type { Config } from '../src/config';
import { CURRENCY } from '../src/domain/catalog';
import { priceOrder } from '../src/domain/pricing';
import { orderPlaced, type OrderPlaced } from '../src/events/order-events';
import { createServedTopics, deadLetterTopic, ensureTopics, eventSchemas, physicalGroupId, physicalTopic, TOPICS } from '../src/events/topics';
import { isDuplicateKeyError } from '../src/mongo/mongo-errors';
import { withRetry, withTimeout } from '../src/retry';
import { buildIfNeeded, ROOT } from '../test/support/processes';
import { removeTestNamespace, testConfig, uniqueMongoUrl, uniqueName } from '../test/support/services';
import { consumerEnv } from './support/consumer-env';
import { ensureBenchVenv } from './support/bench-venv';
import { startChild, type Child } from './support/child';
import { startCountingMailbox, type CountingMailbox } from './support/counting-mailbox';
import { perSecond, seconds, table } from './support/figures';
import { describeMachine } from './support/machine';
import { whole } from './support/params';
import { measureStoreCeiling, WRITES_PER_ORDER, type StoreCeiling } from './support/store-ceiling';
import { clockTicksPerSecond, cpuMeter, cpuSecondsOf, withChildren } from './support/process-cpu';
import { kafkaNodePidFile } from '../src/devstack/kafka';
import { stackPaths } from '../src/devstack/paths';
import { postgresPid } from '../src/devstack/postgres';
import { runningPid } from '../src/devstack/processes';

// ---------------------------------------------------------------------------------------------
// Parameters

const PIPELINES = ['drain', 'seed', 'kafkajs', 'store'] as const;
type PipelineName = (typeof PIPELINES)[number];

function pipelines(name: string): readonly PipelineName[] {
  const raw = process.env[name]?.trim();
  if (!raw) return PIPELINES;
  const chosen = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = chosen.filter((p) => !(PIPELINES as readonly string[]).includes(p));
  if (unknown.length > 0 || chosen.length === 0) throw new Error(`${name} must list some of ${PIPELINES.join(', ')} (comma-separated), not "${raw}"`);
  return PIPELINES.filter((p) => chosen.includes(p));
}

function level(name: string, fallback: string): string {
  const raw = process.env[name]?.trim() || fallback;
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
  if (!levels.includes(raw)) throw new Error(`${name} must be one of ${levels.join(', ')}, not "${raw}"`);
  return raw;
}

const params = {
  orders: whole('BENCH_DRAIN_ORDERS', 20_000, 1, 1_000_000),
  maxSeconds: whole('BENCH_DRAIN_MAX_SECONDS', 300, 1, 3600),
  progressSeconds: whole('BENCH_DRAIN_PROGRESS_SECONDS', 5, 1, 60),
  pollSeconds: whole('BENCH_DRAIN_POLL_SECONDS', 1, 1, 10),
  pipelines: pipelines('BENCH_DRAIN_PIPELINES'),
  logLevel: level('BENCH_DRAIN_LOG_LEVEL', 'warn'),
  output: path.resolve(__dirname, '..', process.env.BENCH_DRAIN_OUTPUT?.trim() || 'bench/results/drain.json'),
  api: whole('BENCH_DRAIN_API', 0, 0, 1) === 1,
};

/** The backlog is produced in batches of this many messages, this many batches in flight, acks=all. */
const PRODUCE_BATCH = 1_000;
const PRODUCE_IN_FLIGHT = 4;
/** How long a stopped process may take to end before it is killed (the product's own limit is 30 s). */
const STOP_GRACE_MS = 35_000;
/** How long the seed pipeline's services may take to connect and find their partitions. */
const SEED_READY_TIMEOUT_MS = 60_000;
/** A cheap reading (one document by _id, Kafka offsets) that takes longer is skipped for that poll. */
const CHEAP_READ_TIMEOUT_MS = 10_000;
/** A costly count (a scan) that takes longer is given up; the next one comes in its turn. */
const STORE_COUNT_TIMEOUT_MS = 120_000;
/** … and the last ones, when the bound is reached. */
const FINAL_COUNT_TIMEOUT_MS = 30_000;
const CONSUMER_MODULES = CONSUMER_MODULE_NAMES;
type ConsumerModuleName = (typeof CONSUMER_MODULES)[number];

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[bench ${elapsed()}] ${message}`);

/** A ratio to four significant figures (the product and a baseline can be orders of magnitude apart). */
const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a !== undefined && b !== undefined && b > 0 ? Number((a / b).toPrecision(4)) : null;

// ---------------------------------------------------------------------------------------------
// The backlog: N valid order.placed events

/** What the orders are, in turn: every restaurant, one to three lines. */
const BASKETS = [
  { restaurantId: 'pizzeria-napoli', lines: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }] },
  { restaurantId: 'sushi-sakura', lines: [{ menuItemId: 'salmon-nigiri', quantity: 3 }, { menuItemId: 'miso-soup', quantity: 1 }] },
  { restaurantId: 'green-bowl', lines: [{ menuItemId: 'falafel-bowl', quantity: 1 }, { menuItemId: 'quinoa-salad', quantity: 2 }] },
  { restaurantId: 'pizzeria-napoli', lines: [{ menuItemId: 'diavola', quantity: 1 }] },
  { restaurantId: 'sushi-sakura', lines: [{ menuItemId: 'california-roll', quantity: 2 }, { menuItemId: 'salmon-nigiri', quantity: 1 }, { menuItemId: 'miso-soup', quantity: 2 }] },
] as const;

const CUSTOMERS = 100;

interface Backlog {
  /** Kafka messages as the API produces them: key = order id, the envelope as JSON, type and id headers. */
  readonly messages: readonly Message[];
  readonly orderIds: readonly string[];
  readonly revenueCents: number;
}

/** N order.placed events, each checked against the product's schema. */
function makeBacklog(count: number, runId: string): Backlog {
  const messages: Message[] = [];
  const orderIds: string[] = [];
  let revenueCents = 0;
  for (let n = 0; n < count; n += 1) {
    const basket = BASKETS[n % BASKETS.length]!;
    const restaurant = CATALOG.find((r) => r.id === basket.restaurantId)!;
    const priced = priceOrder(restaurant, basket.lines);
    const customer = n % CUSTOMERS;
    const at = new Date().toISOString();
    const event = orderPlaced({
      orderId: randomUUID(),
      customerId: `bench-drain-${runId}-customer-${customer}`,
      customerEmail: `customer-${customer}@bench.example`,
      restaurantId: restaurant.id,
      items: [...priced.items],
      totalCents: priced.totalCents,
      currency: CURRENCY,
      paymentToken: 'tok_visa',
      deliveryAddress: `${n + 1} Backlog Street`,
      idempotencyKey: null,
      placedAt: at,
    });
    const checked = eventSchemas[TOPICS.orderPlaced].safeParse(event);
    if (!checked.success) throw new Error(`the benchmark made an invalid order.placed event: ${checked.error.message}`);
    messages.push({ key: event.data.orderId, value: JSON.stringify(event), headers: { 'event-type': event.type, 'event-id': event.id } });
    orderIds.push(event.data.orderId);
    revenueCents += priced.totalCents;
  }
  return { messages, orderIds, revenueCents };
}

interface Produced {
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/** Produces the backlog to `topic`: batches of PRODUCE_BATCH, PRODUCE_IN_FLIGHT at a time, acks=all. */
async function produceBacklog(kafka: Kafka, topic: string, messages: readonly Message[]): Promise<Produced> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const begin = performance.now();
  try {
    let next = 0;
    let sent = 0;
    let lastSay = performance.now();
    await Promise.all(
      Array.from({ length: PRODUCE_IN_FLIGHT }, async () => {
        for (let from = next; from < messages.length; from = next) {
          next += PRODUCE_BATCH;
          const batch = messages.slice(from, from + PRODUCE_BATCH);
          await withRetry(() => producer.send({ topic, acks: -1, messages: batch }), { retries: 5, initialDelayMs: 200 });
          sent += batch.length;
          if (performance.now() - lastSay > params.progressSeconds * 1000) {
            lastSay = performance.now();
            say(`  produced ${sent}/${messages.length}`);
          }
        }
      }),
    );
  } finally {
    await producer.disconnect();
  }
  const ms = performance.now() - begin;
  return { messages: messages.length, seconds: seconds(ms), perSecond: perSecond(messages.length, ms) };
}

async function highWatermarkSum(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** Creates `topics` (partitions each), waiting until every partition is served. */
async function createTopics(admin: Admin, config: Config, topics: readonly string[], partitions: number): Promise<void> {
  await createServedTopics(admin, topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: config.kafka.replicationFactor })));
}

/**
 * A kafkajs client for the benchmark's own producing, consuming and admin: warnings and errors
 * go to the progress output, except the broker's answers that kafkajs retries by itself ("not
 * the leader" right after a topic is created), which the product's client quiets the same way.
 */
function benchKafka(brokers: readonly string[]): Kafka {
  return new Kafka({
    clientId: uniqueName('bench-drain'),
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, log }) => {
      if (namespace === 'Connection' && log.message.startsWith('Response ')) return;
      say(`kafkajs ${namespace}: ${log.message}${log.error ? ` (${String(log.error)})` : ''}`);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// A pipeline's figures

interface PipelineResult {
  readonly complete: boolean;
  readonly orders: number;
  /** Orders all the way through when it finished or was given up. */
  readonly done: number;
  /** To the end state, or until it was given up (BENCH_DRAIN_MAX_SECONDS). */
  readonly seconds: number;
  /** done / seconds: the rate so far when it did not finish. */
  readonly ordersPerSecond: number;
  readonly problems: string[];
}

/** `promise`, or a rejection naming `what` after `ms` (the promise itself goes on). */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(promise, ms, () => new Error(`${what} took more than ${ms / 1000} s`));
}

const rate = (done: number, ms: number) => ({ seconds: seconds(ms), ordersPerSecond: perSecond(done, ms) });

// ---------------------------------------------------------------------------------------------
// 1. The product's drain

type Db = NonNullable<Connection['db']>;

/**
 * THE place that knows where the consumers keep their results: adapt it when their storage
 * changes. One small read per module, in the namespace's database (collection names as in
 * src/mongo/models); emails are counted by the SMTP server instead.
 *
 * On FerretDB v1 every count scans its collection: about 2 s at 20,000 documents on a busy
 * two-core machine, far more while the consumers write to it. So the two costly counts run in
 * the background, one at a time and seldom, and at once when a cheap sign (`maybeDone`) says
 * their module may have finished; see runDrain.
 */
const endState = {
  /** transactions: orders with a captured payment (one `transactions` document per order, _id = order id). Costly. */
  charged: (db: Db) => db.collection('transactions').countDocuments({ status: 'captured' }),
  /** orders-projector: orders CONFIRMED in the `orders` read model. Costly. */
  confirmed: (db: Db) => db.collection('orders').countDocuments({ status: 'CONFIRMED' }),
  decided: (db: Db) => db.collection('order_transitions').countDocuments({ to: 'CONFIRMED' }),
  /** analytics: ordersConfirmed of its `analytics` document "global". Cheap (by _id). */
  analyticsConfirmed: async (db: Db) =>
    (await db.collection<{ _id: string; ordersConfirmed?: number }>('analytics').findOne({ _id: 'global' }, { projection: { ordersConfirmed: 1 } }))
      ?.ordersConfirmed ?? 0,
};

/** What the cheap signs can see: Kafka only. */
interface DrainSigns {
  /** Messages on order.confirmed (the order authority emits one per order after recording its confirmation). */
  readonly orderConfirmedEvents: number;
  /** Messages on `topics` not yet committed by the namespace's consumer group `groupId` (all of them if it has committed none). */
  lag(groupId: string, topics: readonly string[]): Promise<number>;
}

/**
 * The costly counts and, for each, a cheap sign that its module may have finished. A wrong
 * sign costs only time: a sign that never comes leaves the count to its periodic turn; one that
 * comes early makes a count that shows fewer than N, and the count is repeated.
 */
const costlyCounts = (n: number): { module: ConsumerModuleName; read: (db: Db) => Promise<number>; maybeDone: (signs: DrainSigns) => Promise<boolean> }[] => [
  { module: 'transactions', read: endState.charged, maybeDone: async (signs) => signs.orderConfirmedEvents >= n },
  // order.confirmed is the authority's announcement of a confirmation it recorded.
  { module: 'order-authority', read: endState.decided, maybeDone: async (signs) => signs.orderConfirmedEvents >= n },
  {
    module: 'orders-projector',
    read: endState.confirmed,
    // Every CONFIRMED is out, and the projector's group (docs/architecture.md) has committed all it reads.
    maybeDone: async (signs) => signs.orderConfirmedEvents >= n && (await signs.lag('orders-projector', [TOPICS.orderPlaced, TOPICS.orderStatusChanged])) === 0,
  },
];

interface ModuleFigures {
  /** What "done" means for this module, as read. */
  readonly measures: string;
  /** Its last reading. */
  readonly count: number;
  /**
   * Seconds from the processes' start to the reading that first showed all N (its start; for
   * emails the moment the N-th arrived); null if none did.
   */
  readonly finishedAfterSeconds: number | null;
  /** When it did, for certain: after the start of the reading before (which showed fewer), before the end of that reading. */
  readonly finishedBetweenSeconds: readonly [number, number] | null;
  /** count over the time to its finish, or to when the drain was given up. */
  readonly ordersPerSecond: number;
}

interface ProcessFigures {
  readonly pid: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Log lines at warn level or above, and the first few of them. */
  readonly warnings: number;
  readonly firstWarnings: string[];
}

/**
 * A consumer process's CPU over the drain (/proc/<pid>/stat: user + system, every thread),
 * for the capacity plan: CPU-seconds per order carry over to other machines where a rate
 * measured on two shared cores does not.
 */
interface ModuleCpu {
  /** At the moment its group was first seen Stable with members: start-up (loading, connecting) is not the drain's. */
  readonly cpuSecondsAtJoin: number | null;
  /** At its finish (interpolated between the readings around it, one per poll). */
  readonly cpuSecondsAtFinish: number | null;
  /** (at finish − at join) ÷ orders: what one order costs this module, idle polling included. */
  readonly cpuMsPerOrder: number | null;
  /** Its CPU from its finish to the end of the drain, in % of one core: what it costs idle. */
  readonly idlePercentOfCore: number | null;
}

interface DrainCpu {
  readonly method: string;
  readonly clockTicksPerSecond: number;
  readonly modules: Record<ConsumerModuleName, ModuleCpu>;
  /** The modules' cpuMsPerOrder summed: the consumer side's CPU per order. */
  readonly consumersCpuMsPerOrder: number | null;
  /**
   * The local servers' CPU from the processes' start to the end of the drain, per order (null
   * where not run locally). The machine is shared: other runs' work on the same servers counts
   * too, so these are upper bounds.
   */
  readonly services: Record<'kafka' | 'ferretdb' | 'postgres', { readonly cpuSeconds: number; readonly cpuMsPerOrder: number } | null>;
  /**
   * BENCH_DRAIN_API=1: an API process with no client, listening beside the drain. Every API
   * instance reads every event of the streamed topics (its own consumer groups), so this is
   * the tax each API pod pays per order whatever its connected apps; null when not run.
   */
  readonly api: {
    readonly idlePercentOfCore: number;
    readonly cpuSecondsOverDrain: number;
    /** Streamed events (order.confirmed, order.status-changed, order.transition-decided, analytics.updated) produced during the drain. */
    readonly eventsStreamed: number;
    /** Net of its idle CPU over the same time. */
    readonly cpuMsPerOrder: number;
    readonly microsecondsPerEvent: number | null;
  } | null;
}

interface DrainResult extends PipelineResult {
  readonly namespace: string;
  readonly produce: Produced;
  /** The same N over the time from the first consumer group becoming Stable to the end state. */
  readonly fromFirstJoined: { readonly seconds: number; readonly ordersPerSecond: number } | null;
  readonly firstGroupJoinedAfterSeconds: number | null;
  readonly allGroupsJoinedAfterSeconds: number | null;
  readonly modules: Record<ConsumerModuleName, ModuleFigures>;
  readonly emailsReceived: number;
  readonly orderConfirmedEvents: number;
  readonly deadLetters: number | null;
  /** The costly end-state reads (counts over a whole collection): how many, how long. */
  readonly storeCounts: { readonly reads: number; readonly meanSeconds: number; readonly maxSeconds: number };
  readonly processes: Record<string, ProcessFigures>;
  readonly cpu: DrainCpu;
}

/** Extra node flags for the consumer processes (profiling): BENCH_DRAIN_NODE_ARGS, split on spaces. */
const nodeArgs = (process.env.BENCH_DRAIN_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** Watches the given consumer groups and notes when each first became Stable with members (and tells onJoined at once). */
function watchGroupJoins(admin: Admin, groupIds: readonly string[], onJoined: (groupId: string) => void = () => undefined): { joinedAt: Map<string, number>; stop: () => Promise<void> } {
  const joinedAt = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped && joinedAt.size < groupIds.length) {
      const at = performance.now();
      try {
        const mine = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => groupIds.includes(id) && !joinedAt.has(id));
        if (mine.length > 0) {
          for (const group of (await admin.describeGroups(mine)).groups) {
            if (group.state === 'Stable' && group.members.length > 0) {
              joinedAt.set(group.groupId, at);
              onJoined(group.groupId);
            }
          }
        }
      } catch {
        // the broker may be busy; the next look will tell
      }
      await sleep(250);
    }
  })();
  return {
    joinedAt,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** A module's readings: the last one, and the first that showed all N. */
class ModuleTrack {
  last: { count: number; start: number; end: number } | undefined;
  finished: { at: number; after: number; before: number } | undefined;

  constructor(private readonly total: number, private readonly since: number) {}

  record(count: number, start: number, end: number): void {
    if (!this.finished && count >= this.total) this.finished = { at: start, after: this.last?.start ?? this.since, before: end };
    this.last = { count, start, end };
  }

  figures(measures: string, givenUpAt: number): ModuleFigures {
    const s = (at: number) => seconds(at - this.since);
    const count = this.last?.count ?? 0;
    return {
      measures,
      count,
      finishedAfterSeconds: this.finished ? s(this.finished.at) : null,
      finishedBetweenSeconds: this.finished ? [s(this.finished.after), s(this.finished.before)] : null,
      ordersPerSecond: perSecond(this.finished ? this.total : count, (this.finished?.at ?? givenUpAt) - this.since),
    };
  }
}

const MODULE_MEASURES: Record<ConsumerModuleName, string> = {
  transactions: 'transactions with status captured',
  'order-authority': 'transitions to CONFIRMED recorded by the order authority',
  confirmations: 'distinct confirmation emails received by the SMTP server',
  analytics: 'ordersConfirmed of the analytics document "global"',
  'orders-projector': 'orders with status CONFIRMED in the read model',
};

/**
 * Pre-produces the backlog, starts the four consumer processes and reads the end state until it
 * holds for all N (or the bound). Each poll (BENCH_DRAIN_POLL_SECONDS) takes the cheap readings:
 * emails (the SMTP server), analytics (one document by _id), the order.confirmed events on
 * Kafka. The costly counts (charged, CONFIRMED) run in the background, one at a time: at once
 * when their sign (costlyCounts) first comes, then every poll while it holds, with a gap at
 * least as long as the last count took; without the sign only for the progress line, every
 * BENCH_DRAIN_PROGRESS_SECONDS at most and a tenth of the time at most. So the store works for
 * the product rather than for the benchmark, and a finish is still seen within a count or two.
 */
async function runDrain(backlog: Backlog): Promise<DrainResult> {
  const n = backlog.orderIds.length;
  const name = 'bench-drain';
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName(name), MONGO_URL: uniqueMongoUrl(name) });
  const namespace = config.kafka.namespace;
  say(`drain: namespace ${namespace} (${config.kafka.topicPartitions} partitions per topic), database ${new URL(config.mongo.url).pathname.slice(1)}`);
  const kafka = benchKafka(config.kafka.brokers);
  const admin = kafka.admin();
  let mongo: Connection | undefined;
  let mailbox: CountingMailbox | undefined;
  const children: Child[] = [];
  let api: Awaited<ReturnType<typeof startListeningApi>> | undefined;
  const problems: string[] = [];
  const warnings = new Map<string, { count: number; first: string[] }>();
  try {
    await admin.connect();
    await ensureTopics(admin, config);
    say(`drain: producing ${n} order.placed events to ${physicalTopic(config, TOPICS.orderPlaced)} (batches of ${PRODUCE_BATCH}, acks=all)…`);
    const produce = await produceBacklog(kafka, physicalTopic(config, TOPICS.orderPlaced), backlog.messages);
    say(`drain: produced ${produce.messages} in ${produce.seconds} s (${produce.perSecond}/s)`);
    mailbox = await startCountingMailbox();
    mongo = await mongoose.createConnection(config.mongo.url).asPromise();
    const db = mongo.db!;
    const confirmedTopic = physicalTopic(config, TOPICS.orderConfirmed);

    say(`drain: starting ${CONSUMER_MODULES.map((m) => `node dist/consumers/${m}.js`).join(', ')} (LOG_LEVEL=${params.logLevel}, SMTP ${mailbox.url})…`);
    const env = consumerEnv(config, { smtpUrl: mailbox.url, jwtSecret: randomBytes(24).toString('hex'), logLevel: params.logLevel });
    if (params.api) api = await startListeningApi(env);
    const services = localServiceMeters(config.kafka.brokers);
    const t0 = performance.now();
    for (const module of CONSUMER_MODULES) {
      const seen = { count: 0, first: [] as string[] };
      warnings.set(module, seen);
      children.push(
        startChild(module, process.execPath, [...nodeArgs, `dist/consumers/${module}.js`], {
          cwd: ROOT,
          env,
          onLine: (line, stream) => {
            let levelNumber = stream === 'stderr' ? 50 : 30;
            try {
              levelNumber = (JSON.parse(line) as { level?: number }).level ?? levelNumber;
            } catch {
              // not a pino line: stderr counts as a warning, stdout does not
            }
            if (levelNumber >= 40) {
              seen.count += 1;
              if (seen.first.length < 3) seen.first.push(line.slice(0, 500));
            }
          },
        }),
      );
    }
    // Each consumer's CPU: read when its group joins, then at every poll (cpuOfModules).
    const cpuAtJoin = new Map<string, number>();
    const cpuReadings = new Map<string, { at: number; cpu: number }[]>(CONSUMER_MODULES.map((m) => [m, []]));
    const readCpu = (at: number) => {
      for (const c of children) {
        const cpu = cpuSecondsOf(c.pid);
        if (cpu !== undefined) cpuReadings.get(c.name)?.push({ at, cpu });
      }
    };
    const groups = watchGroupJoins(admin, CONSUMER_MODULES.map((m) => physicalGroupId(config, m)), (groupId) => {
      const child = children.find((c) => physicalGroupId(config, c.name) === groupId);
      const cpu = child && cpuSecondsOf(child.pid);
      if (child && cpu !== undefined) cpuAtJoin.set(child.name, cpu);
    });

    const tracks = Object.fromEntries(CONSUMER_MODULES.map((m) => [m, new ModuleTrack(n, t0)])) as Record<ConsumerModuleName, ModuleTrack>;
    const signs = {
      orderConfirmedEvents: 0,
      async lag(groupId: string, topics: readonly string[]) {
        const physical = topics.map((t) => physicalTopic(config, t));
        const committed = await admin.fetchOffsets({ groupId: physicalGroupId(config, groupId), topics: physical });
        let lag = 0;
        for (const topic of physical) {
          const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
          for (const p of await admin.fetchTopicOffsets(topic)) {
            lag += Math.max(0, Number(p.high) - Math.max(0, Number(mine.find((m) => m.partition === p.partition)?.offset ?? 0)));
          }
        }
        return lag;
      },
    };
    const costly = costlyCounts(n).map((c) => ({ ...c, lastEnd: t0, lastTook: 0, signalled: false }));
    const storeReads: number[] = [];
    let counting: Promise<void> | undefined;
    /** Starts one costly count in the background; its reading is recorded when it comes. */
    const startCount = (c: (typeof costly)[number], timeoutMs = STORE_COUNT_TIMEOUT_MS) => {
      const start = performance.now();
      counting = bounded(c.read(db), timeoutMs, `counting for ${c.module}`)
        .then(
          (count) => {
            const end = performance.now();
            storeReads.push(end - start);
            tracks[c.module].record(count, start, end);
            c.lastTook = end - start;
          },
          (error: unknown) => {
            say(`drain: ${error instanceof Error ? error.message : String(error)}`);
            c.lastTook = performance.now() - start;
          },
        )
        .finally(() => {
          c.lastEnd = performance.now();
          counting = undefined;
        });
    };
    let nextProgress = t0 + params.progressSeconds * 1000;
    const deadline = t0 + params.maxSeconds * 1000;
    const isDone = () => CONSUMER_MODULES.every((m) => tracks[m].finished);
    for (;;) {
      const pollAt = performance.now();
      readCpu(pollAt);
      const nth = mailbox.reachedAt(n);
      if (nth !== undefined) tracks.confirmations.finished ??= { at: nth, after: nth, before: nth }; // known to the millisecond
      tracks.confirmations.record(mailbox.distinct(), pollAt, pollAt);
      try {
        const [analytics, events] = await bounded(
          Promise.all([endState.analyticsConfirmed(db), highWatermarkSum(admin, confirmedTopic)]),
          CHEAP_READ_TIMEOUT_MS,
          'reading analytics and order.confirmed',
        );
        tracks.analytics.record(analytics, pollAt, performance.now());
        signs.orderConfirmedEvents = events;
        // One costly count at a time: soon after its sign, otherwise for the progress line, at
        // most a tenth of the time.
        for (const c of costly.filter((c) => !counting && !tracks[c.module].finished)) {
          const maybe = await bounded(c.maybeDone(signs), CHEAP_READ_TIMEOUT_MS, `the sign for ${c.module}`).catch(() => false);
          const due = maybe && !c.signalled ? 0 : c.lastEnd + (maybe ? Math.max(params.pollSeconds * 1000, c.lastTook) : Math.max(params.progressSeconds * 1000, 9 * c.lastTook));
          c.signalled ||= maybe;
          if (performance.now() >= due) {
            startCount(c);
            break;
          }
        }
      } catch (error) {
        say(`drain: ${error instanceof Error ? error.message : String(error)}; trying again`);
      }
      const done = isDone();
      if (performance.now() >= nextProgress || done) {
        nextProgress = performance.now() + params.progressSeconds * 1000;
        // A costly count shows when it was read.
        const count = (m: ConsumerModuleName) => {
          const last = tracks[m].last;
          if (!last) return 'not read yet';
          return performance.now() - last.end > params.pollSeconds * 2000 && !tracks[m].finished ? `${last.count} (as of ${seconds(last.start - t0)} s)` : String(last.count);
        };
        say(
          `drain ${seconds(performance.now() - t0)}s: charged ${count('transactions')}, order.confirmed events ${signs.orderConfirmedEvents}, ` +
            `CONFIRMED ${count('orders-projector')}, emails ${count('confirmations')}, analytics ${count('analytics')} of ${n}; ` +
            `groups joined ${groups.joinedAt.size}/${CONSUMER_MODULES.length}`,
        );
      }
      if (done) break;
      const dead = children.filter((c) => c.exit);
      if (dead.length > 0) {
        for (const child of dead) {
          problems.push(`${child.name} exited (code ${child.exit!.code}, signal ${child.exit!.signal}) before the drain finished; last output: ${child.tail().slice(-5).join(' | ')}`);
        }
        say(`drain: ${dead.map((c) => c.name).join(', ')} exited early; giving up`);
        break;
      }
      if (performance.now() >= deadline) {
        say(`drain: BENCH_DRAIN_MAX_SECONDS (${params.maxSeconds}) reached; reading how far it got…`);
        // One last reading of each unfinished count, so "how far" is current for every module
        // (briefly: a store too busy to answer has said how far it got already).
        await bounded(counting ?? Promise.resolve(), FINAL_COUNT_TIMEOUT_MS, 'the count under way').catch(() => undefined);
        for (const c of costly.filter((c) => !counting && !tracks[c.module].finished)) {
          startCount(c, FINAL_COUNT_TIMEOUT_MS);
          await counting;
        }
        break;
      }
      await sleep(Math.max(0, pollAt + params.pollSeconds * 1000 - performance.now()));
    }
    const givenUpAt = performance.now();
    readCpu(givenUpAt);
    const servicesCpu = services.read();
    const apiCpu = api ? cpuSecondsOf(api.child.pid) : undefined;
    const streamed = api ? (await Promise.all(STREAMED.map((t) => highWatermarkSum(admin, physicalTopic(config, t))))).reduce((a, b) => a + b, 0) : 0;
    await groups.stop();

    const complete = isDone();
    const counts = Object.fromEntries(CONSUMER_MODULES.map((m) => [m, tracks[m].last?.count ?? 0])) as Record<ConsumerModuleName, number>;
    const done = complete ? n : Math.min(...Object.values(counts));
    const endAt = complete ? Math.max(...CONSUMER_MODULES.map((m) => tracks[m].finished!.at)) : givenUpAt;
    const joins = [...groups.joinedAt.values()];
    const firstJoined = joins.length > 0 ? Math.min(...joins) : undefined;

    // Checks that the figures mean what they say.
    if (mailbox.received() > mailbox.distinct()) problems.push(`${mailbox.received() - mailbox.distinct()} confirmation email(s) were received more than once`);
    if (mailbox.distinct() > n) problems.push(`${mailbox.distinct()} distinct emails for ${n} orders`);
    if (counts.analytics > n) problems.push(`analytics counted ${counts.analytics} confirmed orders of ${n}`);
    let deadLetters: number | null = null;
    try {
      deadLetters = (await Promise.all(Object.values(TOPICS).map((t) => highWatermarkSum(admin, physicalTopic(config, deadLetterTopic(t)))))).reduce((a, b) => a + b, 0);
      if (deadLetters > 0) problems.push(`${deadLetters} message(s) were dead-lettered`);
    } catch (error) {
      say(`drain: could not count dead letters: ${error instanceof Error ? error.message : String(error)}`);
    }

    say('drain: stopping the consumer processes (SIGTERM)…');
    await Promise.all(children.map((c) => c.stop(STOP_GRACE_MS)));
    const processes = Object.fromEntries(
      children.map((c): [string, ProcessFigures] => {
        const w = warnings.get(c.name)!;
        if (c.exit?.code !== 0 && !problems.some((p) => p.startsWith(`${c.name} exited`))) {
          problems.push(`${c.name} did not stop cleanly on SIGTERM (code ${c.exit?.code}, signal ${c.exit?.signal}); last output: ${c.tail().slice(-5).join(' | ')}`);
        }
        return [c.name, { pid: c.pid, exitCode: c.exit?.code ?? null, signal: c.exit?.signal ?? null, warnings: w.count, firstWarnings: w.first }];
      }),
    );
    return {
      complete,
      orders: n,
      done,
      ...rate(done, endAt - t0),
      problems,
      namespace,
      produce,
      fromFirstJoined: firstJoined === undefined ? null : rate(done, endAt - firstJoined),
      firstGroupJoinedAfterSeconds: firstJoined === undefined ? null : seconds(firstJoined - t0),
      allGroupsJoinedAfterSeconds: joins.length === CONSUMER_MODULES.length ? seconds(Math.max(...joins) - t0) : null,
      modules: Object.fromEntries(CONSUMER_MODULES.map((m) => [m, tracks[m].figures(MODULE_MEASURES[m], givenUpAt)])) as Record<ConsumerModuleName, ModuleFigures>,
      emailsReceived: mailbox.received(),
      orderConfirmedEvents: signs.orderConfirmedEvents,
      deadLetters,
      storeCounts: {
        reads: storeReads.length,
        meanSeconds: storeReads.length ? seconds(storeReads.reduce((a, b) => a + b, 0) / storeReads.length) : 0,
        maxSeconds: storeReads.length ? seconds(Math.max(...storeReads)) : 0,
      },
      processes,
      cpu: {
        method: '/proc/<pid>/stat utime + stime of each consumer process (every thread), read when its group joined and at every poll; per order = (at finish − at join) ÷ orders',
        clockTicksPerSecond: clockTicksPerSecond(),
        ...cpuOfModules(tracks, cpuAtJoin, cpuReadings, done, givenUpAt),
        services: Object.fromEntries(
          Object.entries(servicesCpu).map(([k, v]) => [k, v === null ? null : { cpuSeconds: round3(v), cpuMsPerOrder: done > 0 ? round3((1000 * v) / done) : 0 }]),
        ) as DrainCpu['services'],
        api:
          api && apiCpu !== undefined
            ? (() => {
                const over = apiCpu - api.cpuAtStart;
                const net = Math.max(0, over - (api.idlePercentOfCore / 100) * ((givenUpAt - t0) / 1000));
                return {
                  idlePercentOfCore: Math.round(api.idlePercentOfCore * 10) / 10,
                  cpuSecondsOverDrain: round3(over),
                  eventsStreamed: streamed,
                  cpuMsPerOrder: done > 0 ? round3((1000 * net) / done) : 0,
                  microsecondsPerEvent: streamed > 0 ? Math.round((1e6 * net) / streamed) : null,
                };
              })()
            : null,
      },
    };
  } finally {
    await Promise.all(children.map((c) => c.stop(STOP_GRACE_MS)));
    await api?.child.stop(STOP_GRACE_MS).catch(() => undefined);
    await mailbox?.stop().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await removeTestNamespace(namespace, config.mongo.url).catch((error: unknown) => problems.push(`clean-up of ${namespace} failed: ${String(error)}`));
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** CPU at time `at` from the readings around it (linear between the two; the nearest at either end). */
function cpuAt(readings: readonly { at: number; cpu: number }[], at: number): number | null {
  const after = readings.findIndex((r) => r.at >= at);
  if (after === -1) return readings.at(-1)?.cpu ?? null;
  const b = readings[after]!;
  const a = readings[after - 1];
  if (!a || b.at === a.at) return b.cpu;
  return a.cpu + ((b.cpu - a.cpu) * (at - a.at)) / (b.at - a.at);
}

/** Each module's CPU figures (ModuleCpu), and their sum per order. */
function cpuOfModules(
  tracks: Record<ConsumerModuleName, ModuleTrack>,
  atJoin: ReadonlyMap<string, number>,
  readings: ReadonlyMap<string, readonly { at: number; cpu: number }[]>,
  done: number,
  endAt: number,
): { modules: Record<ConsumerModuleName, ModuleCpu>; consumersCpuMsPerOrder: number | null } {
  const modules = Object.fromEntries(
    CONSUMER_MODULES.map((m): [ConsumerModuleName, ModuleCpu] => {
      const mine = readings.get(m) ?? [];
      const join = atJoin.get(m) ?? null;
      const finishedAt = tracks[m].finished?.at;
      const atFinish = cpuAt(mine, finishedAt ?? endAt);
      const handled = finishedAt !== undefined ? done : (tracks[m].last?.count ?? 0);
      const atEnd = mine.at(-1);
      // Idle only over a span long enough to say something (a few polls).
      const idle = finishedAt !== undefined && atFinish !== null && atEnd && atEnd.at - finishedAt >= 3000 ? (100 * (atEnd.cpu - atFinish)) / ((atEnd.at - finishedAt) / 1000) : null;
      return [
        m,
        {
          cpuSecondsAtJoin: join === null ? null : round3(join),
          cpuSecondsAtFinish: atFinish === null ? null : round3(atFinish),
          cpuMsPerOrder: join !== null && atFinish !== null && handled > 0 ? round3((1000 * (atFinish - join)) / handled) : null,
          idlePercentOfCore: idle === null ? null : Math.round(idle * 10) / 10,
        },
      ];
    }),
  ) as Record<ConsumerModuleName, ModuleCpu>;
  const each = CONSUMER_MODULES.map((m) => modules[m].cpuMsPerOrder);
  return { modules, consumersCpuMsPerOrder: each.every((x) => x !== null) ? round3(each.reduce((s, x) => s + x!, 0)) : null };
}

/**
 * CPU meters of the local servers the drain writes to, when they run here (the stack's pid
 * files under .local; the single broker on 9092): Kafka, FerretDB, and PostgreSQL with its
 * backends. null for a server given from elsewhere.
 */
function localServiceMeters(brokers: readonly string[]): { read(): Record<'kafka' | 'ferretdb' | 'postgres', number | null> } {
  const paths = stackPaths('.local', ROOT);
  const kafkaPid = brokers.length === 1 ? runningPid(kafkaNodePidFile(paths, 'single', 1)) : undefined;
  const ferretPid = runningPid(paths.ferretPid);
  const pgPid = postgresPid(paths);
  const meters = {
    kafka: kafkaPid === undefined ? null : cpuMeter(() => [kafkaPid]),
    ferretdb: ferretPid === undefined ? null : cpuMeter(() => [ferretPid]),
    postgres: pgPid === undefined ? null : cpuMeter(() => withChildren(pgPid)),
  };
  return { read: () => ({ kafka: meters.kafka?.read() ?? null, ferretdb: meters.ferretdb?.read() ?? null, postgres: meters.postgres?.read() ?? null }) };
}

/** The topics every API instance reads in full (src/subscriptions/event-pubsub.ts STREAMED_TOPICS). */
const STREAMED = [TOPICS.orderConfirmed, TOPICS.orderStatusChanged, TOPICS.orderTransitionDecided, TOPICS.analyticsUpdated] as const;

/**
 * An API process on the drain's namespace with no client (BENCH_DRAIN_API=1): once ready (its
 * subscription consumers joined), its idle CPU is read over a few seconds, then its CPU from
 * the drain's start. runDrain stops it with the consumers.
 */
async function startListeningApi(env: NodeJS.ProcessEnv): Promise<{ child: Child; cpuAtStart: number; idlePercentOfCore: number }> {
  const port = await freeLocalPort();
  const child = startChild('api', process.execPath, ['dist/api.js'], { cwd: ROOT, env: { ...env, PORT: String(port), HOST: '127.0.0.1' } });
  const deadline = performance.now() + 120_000;
  while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
    if (child.exit || performance.now() > deadline) {
      await child.stop(STOP_GRACE_MS);
      throw new Error(`the API did not become ready: ${child.tail().slice(-5).join(' | ')}`);
    }
    await sleep(250);
  }
  await sleep(2000); // start-up's last work (JIT, first lag readings) is not idle
  const idleFrom = { at: performance.now(), cpu: cpuSecondsOf(child.pid) ?? 0 };
  await sleep(5000);
  const cpuAtStart = cpuSecondsOf(child.pid) ?? 0;
  const idlePercentOfCore = (100 * (cpuAtStart - idleFrom.cpu)) / ((performance.now() - idleFrom.at) / 1000);
  say(`drain: an API listens on :${port} (idle ${idlePercentOfCore.toFixed(1)} % of a core)`);
  return { child, cpuAtStart, idlePercentOfCore };
}

async function freeLocalPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// 2. The seed pipeline (Python, kafka-python)

interface SeedResult extends PipelineResult {
  readonly namespace: string;
  readonly kafkaPython: string;
  /** The producer's own time to send and flush all N. */
  readonly producerSeconds: number | null;
  /** Each service's last reported count (they report every second and on reaching N) and when it reached N. */
  readonly services: Record<string, { count: number; finishedAfterSeconds: number | null }>;
  readonly revenue: number | null;
}

interface SeedLine {
  readonly event: 'ready' | 'progress' | 'done' | 'first-send';
  readonly service: string;
  readonly at: number;
  readonly count?: number;
  readonly revenue?: number;
}

async function runSeedPipeline(python: string, kafkaPython: string, orders: number): Promise<SeedResult> {
  const config = testConfig();
  const namespace = uniqueName('bench-seed');
  const topics = [`${namespace}.order_details`, `${namespace}.order_confirmed`];
  say(`seed pipeline: topics ${topics.join(', ')} (1 partition each); kafka-python ${kafkaPython}`);
  const admin = benchKafka(config.kafka.brokers).admin();
  const children: Child[] = [];
  const problems: string[] = [];
  const latest = new Map<string, SeedLine>();
  const finished = new Map<string, SeedLine>();
  let firstSend: SeedLine | undefined;
  const waiters: (() => void)[] = [];
  const onLine = (line: string) => {
    let parsed: SeedLine;
    try {
      parsed = JSON.parse(line) as SeedLine;
    } catch {
      return; // a traceback or a library's warning: kept in the tail
    }
    if (parsed.event === 'first-send') firstSend = parsed;
    if (parsed.event === 'done') finished.set(parsed.service, parsed);
    latest.set(parsed.service, parsed);
    for (const wake of waiters.splice(0)) wake();
  };
  const changed = (timeoutMs: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    waiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    SEED_NAMESPACE: namespace,
    SEED_ORDERS: String(orders),
  };
  const start = (service: string, script: string) => {
    const child = startChild(service, python, [script], { cwd: path.join(ROOT, 'bench/seed-pipeline'), env, onLine });
    children.push(child);
    return child;
  };
  const exitedEarly = () => children.filter((c) => c.exit && !(c.name === 'producer' && c.exit.code === 0));
  try {
    await admin.connect();
    await createTopics(admin, config, topics, 1);

    say('seed pipeline: starting transaction.py, email_service.py and analytics.py…');
    start('transaction', 'transaction.py');
    start('email', 'email_service.py');
    start('analytics', 'analytics.py');
    const readyBy = performance.now() + SEED_READY_TIMEOUT_MS;
    while (!['transaction', 'email', 'analytics'].every((s) => latest.has(s))) {
      const dead = exitedEarly();
      if (dead.length > 0) throw new Error(`the seed pipeline's ${dead[0]!.name} service exited at start: ${dead[0]!.tail().slice(-8).join('\n')}`);
      if (performance.now() > readyBy) throw new Error(`the seed pipeline's services were not ready within ${SEED_READY_TIMEOUT_MS} ms`);
      await changed(500);
    }

    say(`seed pipeline: services ready; producer.py sends ${orders} orders…`);
    const producer = start('producer', 'producer.py');
    const deadline = producer.startedAt + params.maxSeconds * 1000;
    let nextProgress = performance.now() + params.progressSeconds * 1000;
    while (!finished.has('analytics')) {
      const dead = exitedEarly();
      if (dead.length > 0) {
        for (const c of dead) problems.push(`${c.name} exited (code ${c.exit!.code}) before the analytics service counted ${orders}: ${c.tail().slice(-5).join(' | ')}`);
        break;
      }
      if (performance.now() >= deadline) {
        say(`seed pipeline: BENCH_DRAIN_MAX_SECONDS (${params.maxSeconds}) reached; recording how far it got`);
        break;
      }
      if (performance.now() >= nextProgress) {
        nextProgress += params.progressSeconds * 1000;
        const count = (s: string) => latest.get(s)?.count ?? 0;
        say(`seed pipeline: sent ${finished.has('producer') ? orders : 'some'}, transaction ${count('transaction')}, email ${count('email')}, analytics ${count('analytics')} of ${orders}`);
      }
      await changed(250);
    }

    const complete = finished.has('analytics');
    // Not timed: give the email service a moment to report its own end, for the record.
    const graceUntil = Math.min(deadline, performance.now() + 10_000);
    while (complete && !finished.has('email') && exitedEarly().length === 0 && performance.now() < graceUntil) await changed(250);
    const analytics = finished.get('analytics') ?? latest.get('analytics');
    const done = complete ? orders : (analytics?.count ?? 0);
    const spanMs = firstSend && analytics && analytics.event !== 'ready' ? (analytics.at - firstSend.at) * 1000 : 0;
    const producerDone = finished.get('producer');
    const services = Object.fromEntries(
      ['producer', 'transaction', 'email', 'analytics'].map((s) => {
        const end = finished.get(s);
        return [s, { count: end?.count ?? latest.get(s)?.count ?? 0, finishedAfterSeconds: end && firstSend ? seconds((end.at - firstSend.at) * 1000) : null }];
      }),
    );
    return {
      complete,
      orders,
      done,
      ...rate(done, spanMs),
      problems,
      namespace,
      kafkaPython,
      producerSeconds: producerDone && firstSend ? seconds((producerDone.at - firstSend.at) * 1000) : null,
      services,
      revenue: analytics?.revenue ?? null,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop(5_000)));
    await admin.deleteTopics({ topics }).catch((error: unknown) => problems.push(`deleting ${topics.join(', ')} failed: ${String(error)}`));
    await admin.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Bare kafkajs: consume → insertMany → commit

interface BareResult extends PipelineResult {
  readonly namespace: string;
  readonly produce: Produced;
  readonly fromJoined: { readonly seconds: number; readonly ordersPerSecond: number } | null;
  readonly joinedAfterSeconds: number | null;
  readonly batches: number;
  readonly documentsInStore: number;
}

async function runBareKafkajs(backlog: Backlog): Promise<BareResult> {
  const n = backlog.orderIds.length;
  const config = testConfig();
  const namespace = uniqueName('bench-bare');
  const mongoUrl = uniqueMongoUrl('bench-bare');
  const topic = `${namespace}.order.placed`;
  say(`bare kafkajs: topic ${topic} (${config.kafka.topicPartitions} partitions), database ${new URL(mongoUrl).pathname.slice(1)}`);
  const kafka = benchKafka(config.kafka.brokers);
  const admin = kafka.admin();
  const consumer = kafka.consumer({ groupId: `${namespace}.bare`, allowAutoTopicCreation: false });
  let mongo: Connection | undefined;
  const problems: string[] = [];
  try {
    await admin.connect();
    await createTopics(admin, config, [topic], config.kafka.topicPartitions);
    say(`bare kafkajs: producing ${n} order.placed events (batches of ${PRODUCE_BATCH}, acks=all)…`);
    const produce = await produceBacklog(kafka, topic, backlog.messages);
    say(`bare kafkajs: produced ${produce.messages} in ${produce.seconds} s (${produce.perSecond}/s)`);
    mongo = await mongoose.createConnection(mongoUrl).asPromise();
    const orders = mongo.db!.collection<{ _id: string }>('orders');

    let inserted = 0;
    let batches = 0;
    let doneAt: number | undefined;
    let joinedAt: number | undefined;
    let failure: unknown;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joinedAt ??= performance.now();
    });
    const t0 = performance.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (batch.messages.length === 0) return;
        const documents = batch.messages.map((m) => {
          const event = JSON.parse(m.value!.toString()) as { data: { orderId: string } };
          return { _id: event.data.orderId, ...event };
        });
        try {
          inserted += (await orders.insertMany(documents, { ordered: false })).insertedCount;
        } catch (error) {
          // A redelivered batch: its documents are there already (duplicate keys); the rest went in.
          const e = error as { insertedCount?: number; writeErrors?: { code: number }[] };
          const duplicatesOnly = isDuplicateKeyError(error) || ((e.writeErrors?.length ?? 0) > 0 && e.writeErrors!.every(isDuplicateKeyError));
          if (!duplicatesOnly) {
            failure ??= error;
            throw error;
          }
          inserted += e.insertedCount ?? 0;
        }
        batches += 1;
        if (inserted >= n) doneAt ??= performance.now();
        const last = batch.messages.at(-1)!.offset;
        resolveOffset(last);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
        await heartbeat();
      },
    });
    const deadline = t0 + params.maxSeconds * 1000;
    let nextProgress = t0 + params.progressSeconds * 1000;
    while (doneAt === undefined && failure === undefined && performance.now() < deadline) {
      if (performance.now() >= nextProgress) {
        nextProgress += params.progressSeconds * 1000;
        say(`bare kafkajs: ${inserted}/${n} inserted in ${batches} batches (${perSecond(inserted, performance.now() - t0)}/s)`);
      }
      await sleep(50);
    }
    const endAt = doneAt ?? performance.now();
    if (failure !== undefined) problems.push(`insertMany failed: ${failure instanceof Error ? failure.message : String(failure)}`);
    else if (doneAt === undefined) say(`bare kafkajs: BENCH_DRAIN_MAX_SECONDS (${params.maxSeconds}) reached; recording how far it got`);
    await consumer.disconnect();
    const documentsInStore = await orders.countDocuments({});
    if (doneAt !== undefined && documentsInStore !== n) problems.push(`${documentsInStore} documents in the collection for ${n} orders`);
    const done = Math.min(inserted, n);
    return {
      complete: doneAt !== undefined,
      orders: n,
      done,
      ...rate(done, endAt - t0),
      problems,
      namespace,
      produce,
      fromJoined: joinedAt === undefined ? null : rate(done, endAt - joinedAt),
      joinedAfterSeconds: joinedAt === undefined ? null : seconds(joinedAt - t0),
      batches,
      documentsInStore,
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await removeTestNamespace(namespace, mongoUrl).catch((error: unknown) => problems.push(`clean-up of ${namespace} failed: ${String(error)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark

async function runStoreCeiling(backlog: Backlog): Promise<StoreCeiling> {
  const mongoUrl = uniqueMongoUrl('bench-ceiling');
  say(`store ceiling: ${WRITES_PER_ORDER.inserts} inserts and ${WRITES_PER_ORDER.updates} update per order for ${backlog.orderIds.length} orders, database ${new URL(mongoUrl).pathname.slice(1)}…`);
  const orders = backlog.messages.map((m) => (JSON.parse(String(m.value)) as OrderPlaced).data);
  const mongo = await mongoose.createConnection(mongoUrl).asPromise();
  try {
    const ceiling = await bounded(measureStoreCeiling(mongo.db!, orders), params.maxSeconds * 1000, 'the store ceiling');
    say(`store ceiling: ${ceiling.seconds} s, ${ceiling.ordersPerSecond} orders/s (streams: ${Object.entries(ceiling.streams).map(([k, v]) => `${k} ${v} s`).join(', ')})`);
    return ceiling;
  } finally {
    await mongo.db!.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
}

/** Setup, production, stopping and clean-up get this much on top of each pipeline's bound. */
const PER_PIPELINE_OVERHEAD_MS = 300_000;
const SETUP_BUDGET_MS = 420_000; // the build and, on first use, the Python virtualenv
const budgetMs = params.pipelines.length * (params.maxSeconds * 1000 + PER_PIPELINE_OVERHEAD_MS) + SETUP_BUDGET_MS;

it(`backlog drain: ${params.orders} orders through ${params.pipelines.join(', ')}`, { timeout: budgetMs }, async () => {
  const timestamp = new Date().toISOString();
  const loadAtStart = loadavg();
  const runId = randomBytes(4).toString('hex');
  const config = testConfig();
  say(`backlog drain: ${params.orders} orders per pipeline (${params.pipelines.join(', ')}), each bounded by ${params.maxSeconds} s, on ${inject('kafkaBrokers')} and ${inject('mongoUrl')}`);

  const venv = params.pipelines.includes('seed') ? await ensureBenchVenv(path.resolve(ROOT, config.localStateDir), say) : undefined;
  say(`making ${params.orders} order.placed events…`);
  const backlog = makeBacklog(params.orders, runId);

  const results: { drain?: DrainResult; seedPipeline?: SeedResult; bareKafkajs?: BareResult; storeCeiling?: StoreCeiling } = {};
  const failures: string[] = [];
  for (const pipeline of params.pipelines) {
    const phaseStart = performance.now();
    try {
      if (pipeline === 'drain') {
        say('drain: building dist/ if it is older than src/ (npx tsc -p tsconfig.build.json)…');
        await buildIfNeeded();
        results.drain = await runDrain(backlog);
      }
      if (pipeline === 'seed') results.seedPipeline = await runSeedPipeline(venv!.python, venv!.kafkaPythonVersion, params.orders);
      if (pipeline === 'kafkajs') results.bareKafkajs = await runBareKafkajs(backlog);
      if (pipeline === 'store') results.storeCeiling = await runStoreCeiling(backlog);
    } catch (error) {
      failures.push(`${pipeline}: ${error instanceof Error ? error.message : String(error)}`);
      say(`${pipeline} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    say(`${pipeline}: ${seconds(performance.now() - phaseStart)} s in all, including set-up and clean-up`);
  }

  // ------------------------------------------------------------------------------------------
  // Figures

  const { drain, seedPipeline, bareKafkajs, storeCeiling } = results;
  const ran = [drain, seedPipeline, bareKafkajs].filter((r): r is NonNullable<typeof r> => r !== undefined);
  const problems = [...failures, ...ran.flatMap((r) => r.problems)];
  const report = {
    benchmark: 'drain',
    timestamp,
    /** Every pipeline that ran finished within BENCH_DRAIN_MAX_SECONDS. */
    complete: failures.length === 0 && ran.every((r) => r.complete),
    passed: problems.length === 0,
    problems,
    machine: describeMachine(loadAtStart),
    parameters: {
      orders: params.orders,
      maxSeconds: params.maxSeconds,
      pollSeconds: params.pollSeconds,
      pipelines: params.pipelines,
      consumerLogLevel: params.logLevel,
      topicPartitions: config.kafka.topicPartitions,
      produceBatch: PRODUCE_BATCH,
      produceInFlight: PRODUCE_IN_FLIGHT,
      kafkaBrokers: config.kafka.brokers,
      store: inject('mongoUrl'),
      drainProcesses: CONSUMER_MODULES.map((m) => `node dist/consumers/${m}.js`),
    },
    results: {
      drain: drain ?? null,
      seedPipeline: seedPipeline ?? null,
      bareKafkajs: bareKafkajs ?? null,
      storeCeiling: storeCeiling ? { ...storeCeiling, writesPerOrder: WRITES_PER_ORDER } : null,
    },
    /** The product's drain rate divided by each baseline's (rates so far for a pipeline that did not finish). */
    ratios: {
      drainVsSeedPipeline: ratio(drain?.ordersPerSecond, seedPipeline?.ordersPerSecond),
      drainVsBareKafkajs: ratio(drain?.ordersPerSecond, bareKafkajs?.ordersPerSecond),
      drainVsStoreCeiling: ratio(drain?.ordersPerSecond, storeCeiling?.ordersPerSecond),
    },
    totalSeconds: seconds(performance.now() - started),
  };

  const row = (label: string, r: PipelineResult | undefined) =>
    r ? [label, r.complete ? r.orders : `${r.done}/${r.orders}`, r.seconds, r.ordersPerSecond, r.complete ? 'yes' : 'NO (bound reached)'] : [label, '-', '-', '-', 'not run'];
  const lines = [
    '',
    `backlog drain — ${params.orders} orders, ${config.kafka.topicPartitions} partitions, ${report.machine.cpus} CPUs, Node ${process.version}`,
    table(['pipeline', 'orders', 'seconds', 'orders/s', 'complete'], [
      row('product drain (4 consumer processes)', drain),
      row('seed pipeline (Python, kafka-python)', seedPipeline),
      row('bare kafkajs (eachBatch → insertMany)', bareKafkajs),
      storeCeiling
        ? ['store ceiling (the drain\'s writes, in bulk)', storeCeiling.orders, storeCeiling.seconds, storeCeiling.ordersPerSecond, 'yes']
        : ['store ceiling (the drain\'s writes, in bulk)', '-', '-', '-', 'not run'],
    ]),
  ];
  if (drain) {
    lines.push(
      '',
      `product drain: from the first group joined (${drain.firstGroupJoinedAfterSeconds ?? '-'} s; all four at ${drain.allGroupsJoinedAfterSeconds ?? '-'} s): ` +
        `${drain.fromFirstJoined?.seconds ?? '-'} s, ${drain.fromFirstJoined?.ordersPerSecond ?? '-'} orders/s`,
      table(
        ['module', 'done', 'finished after (s)', 'orders/s', 'CPU ms/order', 'idle CPU %'],
        CONSUMER_MODULES.map((m) => [m, drain.modules[m].count, drain.modules[m].finishedAfterSeconds ?? '-', drain.modules[m].ordersPerSecond, drain.cpu.modules[m].cpuMsPerOrder ?? '-', drain.cpu.modules[m].idlePercentOfCore ?? '-']),
      ),
      `CPU per order: consumers ${drain.cpu.consumersCpuMsPerOrder ?? '-'} ms; ${drain.cpu.api ? `a listening API ${drain.cpu.api.cpuMsPerOrder} ms (${drain.cpu.api.microsecondsPerEvent} µs per streamed event); ` : ''}servers over the drain (shared machine: upper bounds) Kafka ${drain.cpu.services.kafka?.cpuMsPerOrder ?? '-'} ms, FerretDB ${drain.cpu.services.ferretdb?.cpuMsPerOrder ?? '-'} ms, PostgreSQL ${drain.cpu.services.postgres?.cpuMsPerOrder ?? '-'} ms`,
    );
  }
  lines.push(
    '',
    `ratios: drain / seed pipeline ${report.ratios.drainVsSeedPipeline ?? '-'}, drain / bare kafkajs ${report.ratios.drainVsBareKafkajs ?? '-'}, drain / store ceiling ${report.ratios.drainVsStoreCeiling ?? '-'}`,
    ...problems.map((p) => `  problem: ${p}`),
    `total ${report.totalSeconds} s`,
  );
  console.log(lines.join('\n'));
  await mkdir(path.dirname(params.output), { recursive: true });
  await writeFile(params.output, `${JSON.stringify(report, null, 2)}\n`);
  say(`figures written to ${path.relative(process.cwd(), params.output)}`);

  if (problems.length > 0) throw new Error(`the backlog-drain benchmark found problems: ${problems.join('; ')}`);
});
