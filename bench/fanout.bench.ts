/**
 * Subscription fanout benchmark: how many graphql-ws subscribers one API process holds, and how
 * fast it delivers each Kafka event to all of them. The real local Kafka and FerretDB (found
 * running, or started by the global setup), a Kafka namespace and a database of its own, one
 * API instance in this process (startApiServer), and the subscribers in separate load processes
 * (bench/fanout/client.mjs, graphql-ws over ws), spread evenly, each opening its share.
 *
 * For each subscriber count, in turn (the API stays up; each round starts from no subscribers):
 *
 * 1. the load processes connect that many clients, each with its own ADMIN token, each
 *    subscribed to `analyticsUpdated` (an ADMIN sees the global scope: every event goes to
 *    every socket);
 * 2. sentinel `analytics.updated` events are published until every client received one: from
 *    then on every subscription is registered on the server ("subscribed"); when that traffic
 *    has settled, the API's memory is measured again (after a full GC): memory per idle
 *    subscriber = (after − before) / count, RSS and heap;
 * 3. events are produced straight to the namespace's analytics.updated topic at a fixed rate for
 *    a fixed time by a publisher process (bench/fanout/publisher.mjs: a schedule kept in this
 *    process would slow down with the API it hosts), each carrying a sequence number (in
 *    `ordersPlaced`); the API tells the bench
 *    when each arrives (ApiServerOptions.onSubscriptionEvent, the moment its consumer hands the
 *    message over), the clients when they receive it: delivery latency = receipt − arrival
 *    (one machine, one clock). The API's CPU (process.cpuUsage of this process, which hosts
 *    it) and event-loop delay are taken over the flow;
 * 4. the clients report their receipts and close.
 *
 * Targets (the issue): 10,000 subscribers on one process at ≤ 50 KB each, p99 delivery
 * ≤ 500 ms. `subscribersHeld` is the largest count whose clients all connected and subscribed,
 * received every event, with p99 within the target. It prints progress every few seconds and a
 * table at the end, writes bench/results/fanout.json, and removes its topics, groups and
 * database. With BENCH_FANOUT_CPU_PROFILE=1 it also profiles the API process while the clients
 * connect and during each flow (bench/results/fanout-<count>[-connect].cpuprofile, open in
 * Chrome DevTools) and prints where the time went.
 *
 *   npx tsc -p tsconfig.build.json && npx vitest run --config bench/vitest.bench.config.mts bench/fanout.bench.ts
 *   BENCH_FANOUT_COUNTS=200 BENCH_FANOUT_SECONDS=5 npx vitest run --config bench/vitest.bench.config.mts bench/fanout.bench.ts
 *
 * Parameters (environment variables, since vitest owns the command line):
 *   BENCH_FANOUT_COUNTS               subscriber counts, comma-separated        1000,5000,10000
 *   BENCH_FANOUT_RATE                 events per second during the flow                       4
 *   BENCH_FANOUT_SECONDS              length of the flow                                     15
 *   BENCH_FANOUT_PROCESSES            load processes the clients are spread over              4
 *   BENCH_FANOUT_CONNECT_CONCURRENCY  connection attempts in flight per load process         50
 *   BENCH_FANOUT_DRAIN_SECONDS        how long deliveries may lag after the flow             60
 *   BENCH_FANOUT_TARGET_P99_MS        delivery target                                       500
 *   BENCH_FANOUT_TARGET_KB            memory target per subscriber                           50
 *   BENCH_FANOUT_CPU_PROFILE          1: profile the API while connecting and during the flow 0
 *   BENCH_FANOUT_HEAP_SNAPSHOT        1: write a heap snapshot before and after subscribing   0
 *                                     (bench/results/fanout-<count>-{before,after}.heapsnapshot)
 *   BENCH_PROGRESS_SECONDS            progress line interval                                  3
 *   BENCH_LOG_LEVEL                   pino level of the API                               error
 *   BENCH_OUTPUT                      where the JSON goes            bench/results/fanout.json
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { print } from 'graphql';
import type { Producer } from 'kafkajs';
import { it } from 'vitest';
import { signAccessToken } from '../src/auth/access-token';
import { analyticsUpdated } from '../src/events/analytics-events';
import { physicalTopic, TOPICS } from '../src/events/topics';
import { startApiServer, type ApiServer } from '../src/http/api-server';
import { createLogger } from '../src/logger';
import { removeTestNamespace, testConfig, testKafka, uniqueMongoUrl, uniqueName } from '../test/support/services';
import { BENCH_RATE_LIMITS } from './support/rate-limits';
import { AnalyticsUpdatedDocument } from '../test/generated/graphql';
import { seconds, summarise, table, type LatencySummary } from './support/figures';
import { describeMachine } from './support/machine';
import { whole } from './support/params';

// ---------------------------------------------------------------------------------------------
// Parameters

function positive(name: string, fallback: number, max: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`${name} must be a number above 0 and at most ${max}, not "${raw}"`);
  return value;
}

function counts(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name]?.trim();
  if (!raw) return [...fallback];
  const values = raw.split(',').map((s) => s.trim().replace(/_/g, ''));
  if (values.some((v) => !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100_000)) throw new Error(`${name} must be whole numbers from 1 to 100000, comma-separated, not "${raw}"`);
  return values.map(Number);
}

const params = {
  counts: counts('BENCH_FANOUT_COUNTS', [1000, 5000, 10_000]),
  rate: positive('BENCH_FANOUT_RATE', 4, 1000),
  flowSeconds: positive('BENCH_FANOUT_SECONDS', 15, 3600),
  processes: whole('BENCH_FANOUT_PROCESSES', 4, 1, 64),
  connectConcurrency: whole('BENCH_FANOUT_CONNECT_CONCURRENCY', 50, 1, 5000),
  drainSeconds: whole('BENCH_FANOUT_DRAIN_SECONDS', 60, 1, 3600),
  targetP99Ms: positive('BENCH_FANOUT_TARGET_P99_MS', 500, 60_000),
  targetKB: positive('BENCH_FANOUT_TARGET_KB', 50, 100_000),
  cpuProfile: whole('BENCH_FANOUT_CPU_PROFILE', 0, 0, 1) === 1,
  heapSnapshot: whole('BENCH_FANOUT_HEAP_SNAPSHOT', 0, 0, 1) === 1,
  progressSeconds: whole('BENCH_PROGRESS_SECONDS', 3, 1, 60),
  logLevel: process.env.BENCH_LOG_LEVEL?.trim() || 'error',
  output: path.resolve(__dirname, '..', process.env.BENCH_OUTPUT?.trim() || 'bench/results/fanout.json'),
};

const CLIENT_SCRIPT = path.join(__dirname, 'fanout', 'client.mjs');
const PUBLISHER_SCRIPT = path.join(__dirname, 'fanout', 'publisher.mjs');
/** A connection attempt gives up after this long (the client's own timeout). */
const CONNECT_TIMEOUT_MS = 60_000;
/** Connecting: this long plus a little per client. */
const connectBudgetMs = (count: number) => 60_000 + count * 20;
/** Sentinels are published until every client got one, for at most this long. */
const LIVE_BUDGET_MS = 90_000;
const SENTINEL_INTERVAL_MS = 1000;
/** After the last sentinel: no fanout may still be in flight when idle memory is measured. */
const QUIET_MS = 3000;
/** The API's CPU with no subscribers is sampled this long before each round. */
const IDLE_SAMPLE_MS = 3000;
const CHILD_EXIT_MS = 20_000;
/** Per round on top of connecting, the flow and the drain; plus start-up and clean-up once. */
const ROUND_FIXED_MS = LIVE_BUDGET_MS + QUIET_MS + CHILD_EXIT_MS + 30_000;
const FIXED_BUDGET_MS = 180_000;
const totalBudgetMs =
  FIXED_BUDGET_MS + params.counts.reduce((sum, n) => sum + connectBudgetMs(n) + ROUND_FIXED_MS + (params.flowSeconds + params.drainSeconds) * 1000, 0);

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[bench ${elapsed()}] ${message}`);
const now = () => performance.timeOrigin + performance.now();
const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
const mb = (bytes: number) => Math.round(bytes / (1024 * 102.4)) / 10;

// ---------------------------------------------------------------------------------------------
// This process: the API's memory, CPU and open files

/** A full GC on demand (vitest does not start workers with --expose-gc). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

async function settledMemory(): Promise<Memory> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await sleep(50);
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

/** This process's open-file limits (soft, hard), from /proc; null where that is not readable. */
function openFileLimits(): { soft: number; hard: number } | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line?.match(/\d+|unlimited/g) ?? []).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    return soft !== undefined && hard !== undefined ? { soft, hard } : null;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine (all cores), in ms. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

// ---------------------------------------------------------------------------------------------
// Profiling (BENCH_FANOUT_CPU_PROFILE=1)

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

const post = <T>(session: Session, method: string, args?: object) =>
  new Promise<T>((resolve, reject) => session.post(method, args ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))));

/** Starts profiling this process (the API) when BENCH_FANOUT_CPU_PROFILE=1; the returned stop writes and summarises the profile. */
async function startProfile(): Promise<(file: string) => Promise<ProfileSummary | null>> {
  if (!params.cpuProfile) return async () => null;
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(session, 'Profiler.start');
  return async (file) => {
    const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
    session.disconnect();
    const where = path.join(path.dirname(params.output), file);
    await writeFile(where, JSON.stringify(profile));
    say(`CPU profile of the API written to ${path.relative(process.cwd(), where)}`);
    return summariseProfile(profile);
  };
}

/** Where a profiled function lives: a package, our code, Node itself, or V8's own buckets. */
function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]!.split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

interface ProfileSummary {
  readonly sampledMs: number;
  readonly byPlace: { place: string; percent: number }[];
  readonly topFunctions: { fn: string; place: string; percent: number }[];
}

function summariseProfile(profile: CpuProfile): ProfileSummary {
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = [...hits.values()].reduce((a, b) => a + b, 0) || 1;
  const byPlace = new Map<string, number>();
  const byFn = new Map<string, { place: string; hits: number }>();
  for (const node of profile.nodes) {
    const h = hits.get(node.id) ?? 0;
    if (h === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = placeOf(url, functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + h);
    const fn = `${functionName || '(anonymous)'}${url ? ` ${path.basename(url)}:${lineNumber + 1}` : ''}`;
    const entry = byFn.get(fn) ?? { place, hits: 0 };
    entry.hits += h;
    byFn.set(fn, entry);
  }
  const pct = (h: number) => Math.round((h / total) * 1000) / 10;
  return {
    sampledMs: Math.round((profile.endTime - profile.startTime) / 1000),
    byPlace: [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([place, h]) => ({ place, percent: pct(h) })),
    topFunctions: [...byFn].sort((a, b) => b[1].hits - a[1].hits).slice(0, 20).map(([fn, e]) => ({ fn, place: e.place, percent: pct(e.hits) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Load processes

interface ChildProgress {
  connected: number;
  failed: number;
  dropped: number;
  live: number;
  received: number;
  cpu?: NodeJS.CpuUsage;
}

interface Receipts {
  readonly bySeq: Record<string, number[]>;
  readonly errors: string[];
  readonly live: number;
  readonly dropped: number;
  readonly cpu: NodeJS.CpuUsage;
}

interface LoadProcess {
  readonly child: ChildProcess;
  readonly clients: number;
  readonly progress: ChildProgress;
  settled: { connected: number; failed: number; errors: string[] } | null;
  receipts: Receipts | null;
  exited: boolean;
  readonly exit: Promise<void>;
}

/**
 * Forks one load process. Its soft open-file limit is raised to the hard one first (a shell
 * runs `ulimit -n` and execs node, which keeps the IPC channel).
 */
function startLoadProcess(index: number, clients: number): LoadProcess {
  const script = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
  const child = fork(CLIENT_SCRIPT, [], {
    execPath: '/bin/sh',
    execArgv: ['-c', script, process.execPath],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const load: LoadProcess = {
    child,
    clients,
    progress: { connected: 0, failed: 0, dropped: 0, live: 0, received: 0 },
    settled: null,
    receipts: null,
    exited: false,
    exit: new Promise<void>((resolve) => child.once('exit', () => resolve())),
  };
  void load.exit.then(() => (load.exited = true));
  child.on('message', (message: { type: string } & Record<string, unknown>) => {
    if (message.type === 'progress') Object.assign(load.progress, message);
    else if (message.type === 'settled') load.settled = message as unknown as LoadProcess['settled'];
    else if (message.type === 'receipts') load.receipts = message as unknown as Receipts;
  });
  child.on('error', (error) => say(`load process ${index}: ${error.message}`));
  return load;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(100);
  }
}

const sum = (loads: readonly LoadProcess[], field: Exclude<keyof ChildProgress, 'cpu'>) => loads.reduce((total, l) => total + l.progress[field], 0);
const cpuMsOf = (usage: NodeJS.CpuUsage | undefined) => (usage ? (usage.user + usage.system) / 1000 : 0);

async function stopLoadProcesses(loads: readonly LoadProcess[]): Promise<void> {
  for (const load of loads) if (!load.exited && load.child.connected) load.child.send({ type: 'close' });
  const all = Promise.all(loads.map((l) => l.exit));
  const timedOut = await Promise.race([all.then(() => false), sleep(CHILD_EXIT_MS).then(() => true)]);
  if (timedOut) {
    for (const load of loads) if (!load.exited && load.child.pid) process.kill(load.child.pid, 'SIGKILL');
    await Promise.race([all, sleep(5000)]);
  }
}

// ---------------------------------------------------------------------------------------------
// Events

const TOP_ITEMS = [
  { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 120 },
  { menuItemId: 'salmon-nigiri', name: 'Salmon Nigiri', quantity: 95 },
  { menuItemId: 'falafel-bowl', name: 'Falafel Bowl', quantity: 80 },
  { menuItemId: 'california-roll', name: 'California Roll', quantity: 64 },
  { menuItemId: 'tiramisu', name: 'Tiramisu', quantity: 51 },
  { menuItemId: 'miso-soup', name: 'Miso Soup', quantity: 40 },
];

/** A global analytics snapshot whose `ordersPlaced` is its sequence number (how clients tell events apart). */
function snapshotEvent(seq: number): string {
  return JSON.stringify(
    analyticsUpdated({
      scope: 'global',
      ordersPlaced: seq,
      ordersConfirmed: seq,
      ordersPaymentFailed: 3,
      ordersCancelled: 2,
      ordersDelivered: Math.floor(seq / 2),
      revenueCents: seq * 2150,
      averageOrderValueCents: 2150,
      topItems: TOP_ITEMS,
      byRestaurant: [
        { restaurantId: 'pizzeria-napoli', ordersConfirmed: seq, revenueCents: seq * 1000 },
        { restaurantId: 'sushi-sakura', ordersConfirmed: seq, revenueCents: seq * 800 },
        { restaurantId: 'green-bowl', ordersConfirmed: seq, revenueCents: seq * 350 },
      ],
      updatedAt: new Date().toISOString(),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// One round

interface Round {
  readonly subscribers: number;
  readonly skipped: string | null;
  readonly connected: number;
  readonly failedToConnect: number;
  /** First connection attempt to the last one ending. */
  readonly connectSeconds: number;
  /** Clients that received a sentinel: their subscription was registered on the server. */
  readonly subscribed: number;
  readonly droppedByServer: number;
  readonly events: { readonly published: number; readonly arrivedInApi: number; readonly publisherLateMs: number };
  readonly deliveries: { readonly expected: number; readonly delivered: number };
  /** Arrival in the API → receipt in the client, every delivery of every measured event. */
  readonly deliveryMs: LatencySummary | null;
  /** Per event: arrival → its last delivery (the whole fanout of one event). */
  readonly fanoutCompleteMs: LatencySummary | null;
  /** Producer send → arrival in the API (Kafka and the consumer's fetch; not part of delivery). */
  readonly kafkaHopMs: LatencySummary | null;
  readonly memory: {
    readonly before: Memory;
    readonly afterSubscribing: Memory;
    readonly perSubscriberKB: { readonly rss: number; readonly heapUsed: number; readonly external: number };
  } | null;
  readonly apiCpu: {
    readonly flowSeconds: number;
    readonly userMs: number;
    readonly systemMs: number;
    /** Of one core over the flow (first publish to the last delivery or the drain's end). */
    readonly percentOfCore: number;
    /** The API's CPU with no subscribers (its Kafka consumers polling), sampled before the round. */
    readonly idlePercentOfCore: number;
    /** API CPU per delivered message. */
    readonly microsecondsPerDelivery: number | null;
    /** The same, less what the API costs idle over as long. */
    readonly microsecondsPerDeliveryNetOfIdle: number | null;
    readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  } | null;
  /** All cores, everything on the machine (the load processes, Kafka, the store, other work), over the flow. */
  readonly machineBusyPercent: number | null;
  /** The load processes together over the flow (from their last progress report before it), % of one core. */
  readonly loadProcessesPercentOfCore: number | null;
  /** Where the API's time went during the flow, and while the clients connected (BENCH_FANOUT_CPU_PROFILE=1). */
  readonly profile: ProfileSummary | null;
  readonly connectProfile: ProfileSummary | null;
  readonly meetsDeliveryTarget: boolean;
  readonly meetsMemoryTarget: boolean;
  readonly problems: string[];
}

/** What the publisher process reports once every event is sent. */
interface PublisherDone {
  /** Event sequence → when it was sent (performance.timeOrigin + performance.now()). */
  readonly sentAt: Record<string, number>;
  readonly errors: string[];
  /** How far behind its schedule its latest send was. */
  readonly lateMs: number;
}

interface RoundContext {
  readonly api: ApiServer;
  /** Sentinels only; the measured events come from the publisher process. */
  readonly producer: Producer;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly jwtSecret: string;
  readonly query: string;
  readonly arrivals: Map<number, number>;
  readonly nextSeq: () => number;
  setActivity(text: () => string): void;
}

async function runRound(count: number, ctx: RoundContext): Promise<Round> {
  const problems: string[] = [];
  const { api, producer, topic, arrivals } = ctx;
  const sent = new Map<number, number>();
  const publish = async (seq: number) => {
    sent.set(seq, now());
    await producer.send({ topic, acks: -1, messages: [{ key: 'global', value: snapshotEvent(seq) }] });
  };

  say(`— ${count} subscribers —`);
  ctx.setActivity(() => 'signing tokens');
  const runId = randomBytes(3).toString('hex');
  const tokens = await Promise.all(
    Array.from({ length: count }, (_, i) => signAccessToken({ sub: `bench-admin-${runId}-${i}`, role: 'ADMIN' }, ctx.jwtSecret, { expiresInSeconds: 4 * 3600 })),
  );
  // What the API costs with nobody subscribed (its Kafka consumers polling), to tell apart from fanout.
  const idleCpuStart = process.cpuUsage();
  const idleStart = performance.now();
  await sleep(IDLE_SAMPLE_MS);
  const idleCpu = process.cpuUsage(idleCpuStart);
  const idlePercentOfCore = ((idleCpu.user + idleCpu.system) / 1000 / (performance.now() - idleStart)) * 100;
  const before = await settledMemory();
  const snapshot = (when: string) => {
    if (!params.heapSnapshot) return;
    const file = writeHeapSnapshot(path.join(path.dirname(params.output), `fanout-${count}-${when}.heapsnapshot`));
    say(`heap snapshot written to ${path.relative(process.cwd(), file)}`);
  };
  snapshot('before');
  say(`API memory before: RSS ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB`);

  const processes = Math.min(params.processes, count);
  const loads: LoadProcess[] = [];
  let publisher: ChildProcess | undefined;
  try {
    for (let p = 0; p < processes; p += 1) {
      const share = tokens.slice(Math.floor((p * count) / processes), Math.floor(((p + 1) * count) / processes));
      const load = startLoadProcess(p, share.length);
      loads.push(load);
      load.child.send({
        type: 'start',
        url: api.websocketUrl,
        query: ctx.query,
        variables: { topItems: 5 },
        tokens: share,
        concurrency: params.connectConcurrency,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
    }
    ctx.setActivity(() => `connecting: ${sum(loads, 'connected')}/${count} acknowledged, ${sum(loads, 'failed')} failed`);
    say(`${processes} load processes connecting ${count} clients (${params.connectConcurrency} attempts in flight each)…`);
    const connectStart = performance.now();
    const stopConnectProfile = await startProfile();
    await until(() => loads.every((l) => l.settled !== null || l.exited), connectBudgetMs(count), 'the clients to connect');
    const connectProfile = await stopConnectProfile(`fanout-${count}-connect.cpuprofile`);
    const connectSeconds = seconds(performance.now() - connectStart);
    const connected = loads.reduce((n, l) => n + (l.settled?.connected ?? 0), 0);
    const failedToConnect = count - connected;
    say(`${connected}/${count} connected in ${connectSeconds} s${failedToConnect ? `, ${failedToConnect} failed: ${loads.flatMap((l) => l.settled?.errors ?? []).slice(0, 3).join('; ')}` : ''}`);
    if (failedToConnect > 0) problems.push(`${failedToConnect} client(s) could not connect`);

    // Subscribed: a client that received a sentinel has its subscription registered.
    ctx.setActivity(() => `waiting for subscriptions: ${sum(loads, 'live')}/${connected} received a sentinel`);
    const liveDeadline = performance.now() + LIVE_BUDGET_MS;
    while (sum(loads, 'live') < connected && performance.now() < liveDeadline) {
      await publish(ctx.nextSeq());
      await sleep(SENTINEL_INTERVAL_MS);
    }
    await sleep(QUIET_MS);
    const subscribed = sum(loads, 'live');
    if (subscribed < connected) problems.push(`${connected - subscribed} connected client(s) never received a sentinel (not subscribed)`);
    const afterSubscribing = await settledMemory();
    snapshot('after');
    const perSubscriberKB = {
      rss: kb((afterSubscribing.rss - before.rss) / count),
      heapUsed: kb((afterSubscribing.heapUsed - before.heapUsed) / count),
      external: kb((afterSubscribing.external - before.external) / count),
    };
    say(`${subscribed} subscribed; API memory: RSS ${mb(afterSubscribing.rss)} MB, heap ${mb(afterSubscribing.heapUsed)} MB → per subscriber RSS ${perSubscriberKB.rss} KB, heap ${perSubscriberKB.heapUsed} KB, external ${perSubscriberKB.external} KB`);

    // The flow.
    const planned = Math.max(1, Math.round(params.rate * params.flowSeconds));
    const measured = Array.from({ length: planned }, () => ctx.nextSeq());
    const receivedBefore = sum(loads, 'received');
    const expected = planned * subscribed;
    let published = 0;
    ctx.setActivity(() => `flow: ${published}/${planned} events published, ${sum(loads, 'received') - receivedBefore}/${expected} deliveries`);
    say(`flow: ${planned} events at ${params.rate}/s for ${params.flowSeconds} s from a publisher process → ${expected} deliveries expected…`);
    // The events come from a process of its own: this one hosts the API, and a busy API would
    // hold up a schedule kept here, lowering the very load it is measured under.
    const events = fork(PUBLISHER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_OPTIONS: '' } });
    publisher = events;
    const source: { ready: boolean; done: PublisherDone | null } = { ready: false, done: null };
    events.on('message', (message: { type: string; sent?: number } & Record<string, unknown>) => {
      if (message.type === 'ready') source.ready = true;
      else if (message.type === 'progress') published = message.sent ?? published;
      else if (message.type === 'done') source.done = message as unknown as PublisherDone;
    });
    const publisherExit = new Promise<void>((resolve) => events.once('exit', () => resolve()));
    events.send({
      type: 'start',
      brokers: ctx.brokers,
      topic,
      messages: measured.map((seq) => ({ seq, key: 'global', value: snapshotEvent(seq) })),
      intervalMs: 1000 / params.rate,
    });
    await until(() => source.ready || source.done !== null, 60_000, 'the publisher to connect to Kafka');
    const stopProfile = await startProfile();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const loadCpuStart = loads.reduce((n, l) => n + cpuMsOf(l.progress.cpu), 0);
    const cpuStart = process.cpuUsage();
    const machineStart = machineCpu();
    const flowStart = performance.now();
    await until(() => source.done !== null, params.flowSeconds * 1000 + 60_000, 'the publisher to send every event');
    const { sentAt, errors: publishErrors, lateMs } = source.done!;
    published = Object.keys(sentAt).length;
    for (const [seq, at] of Object.entries(sentAt)) sent.set(Number(seq), at);
    problems.push(...publishErrors.map((e) => `publishing: ${e}`));
    if (lateMs > 1000 / params.rate) problems.push(`the publisher fell up to ${lateMs} ms behind its schedule (a busy machine)`);
    await Promise.race([publisherExit, sleep(5000)]);
    const drainDeadline = performance.now() + params.drainSeconds * 1000;
    while (sum(loads, 'received') - receivedBefore < expected && performance.now() < drainDeadline) await sleep(50);
    // Progress comes once a second: the last deliveries happened up to a second before it said so.
    const flowEnd = performance.now();
    const cpu = process.cpuUsage(cpuStart);
    const machineEnd = machineCpu();
    loop.disable();
    const profile = await stopProfile(`fanout-${count}.cpuprofile`);

    // Receipts.
    ctx.setActivity(() => `collecting receipts: ${loads.filter((l) => l.receipts).length}/${loads.length} load processes`);
    for (const load of loads) if (!load.exited) load.child.send({ type: 'report' });
    await until(() => loads.every((l) => l.receipts !== null || l.exited), 60_000, 'the load processes\' receipts');
    const latencies: number[] = [];
    const fanoutComplete: number[] = [];
    const lastDelivery = new Map<number, number>();
    let delivered = 0;
    for (const load of loads) {
      for (const seq of measured) {
        const arrival = arrivals.get(seq);
        for (const at of load.receipts?.bySeq[String(seq)] ?? []) {
          delivered += 1;
          if (arrival !== undefined) latencies.push(at - arrival);
          lastDelivery.set(seq, Math.max(lastDelivery.get(seq) ?? 0, at));
        }
      }
    }
    for (const seq of measured) {
      const arrival = arrivals.get(seq);
      const last = lastDelivery.get(seq);
      if (arrival !== undefined && last !== undefined) fanoutComplete.push(last - arrival);
    }
    const arrivedInApi = measured.filter((seq) => arrivals.has(seq)).length;
    if (arrivedInApi < measured.length) problems.push(`${measured.length - arrivedInApi} event(s) never arrived in the API`);
    if (delivered < expected) problems.push(`${expected - delivered} of ${expected} deliveries missing after the ${params.drainSeconds} s drain`);
    const dropped = loads.reduce((n, l) => n + (l.receipts?.dropped ?? l.progress.dropped), 0);
    if (dropped > 0) problems.push(`${dropped} connection(s) closed by the server during the round`);
    const clientErrors = [...new Set(loads.flatMap((l) => l.receipts?.errors ?? []))];
    if (clientErrors.length > 0) problems.push(`client errors: ${clientErrors.slice(0, 3).join('; ')}`);
    const kafkaHop = measured.flatMap((seq) => (arrivals.has(seq) && sent.has(seq) ? [arrivals.get(seq)! - sent.get(seq)!] : []));

    const flowMs = flowEnd - flowStart;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const deliveryMs = summarise(latencies);
    const loadCpu = loads.every((l) => l.receipts) ? loads.reduce((n, l) => n + cpuMsOf(l.receipts!.cpu), 0) - loadCpuStart : null;
    const meetsDeliveryTarget = deliveryMs !== null && deliveryMs.p99 <= params.targetP99Ms && delivered >= expected && connected === count && subscribed === count;
    const meetsMemoryTarget = perSubscriberKB.rss <= params.targetKB;
    return {
      subscribers: count,
      skipped: null,
      connected,
      failedToConnect,
      connectSeconds,
      subscribed,
      droppedByServer: dropped,
      events: { published, arrivedInApi, publisherLateMs: lateMs },
      deliveries: { expected, delivered },
      deliveryMs,
      fanoutCompleteMs: summarise(fanoutComplete),
      kafkaHopMs: summarise(kafkaHop),
      memory: { before, afterSubscribing, perSubscriberKB },
      apiCpu: {
        flowSeconds: seconds(flowMs),
        userMs: Math.round(cpu.user / 1000),
        systemMs: Math.round(cpu.system / 1000),
        percentOfCore: Math.round((cpuMs / flowMs) * 1000) / 10,
        idlePercentOfCore: Math.round(idlePercentOfCore * 10) / 10,
        microsecondsPerDelivery: delivered > 0 ? Math.round(((cpuMs * 1000) / delivered) * 10) / 10 : null,
        microsecondsPerDeliveryNetOfIdle: delivered > 0 ? Math.round((((cpuMs - (idlePercentOfCore / 100) * flowMs) * 1000) / delivered) * 10) / 10 : null,
        eventLoopDelayMs: {
          p50: Math.round(loop.percentile(50) / 1e4) / 100,
          p99: Math.round(loop.percentile(99) / 1e4) / 100,
          max: Math.round(loop.max / 1e4) / 100,
        },
      },
      machineBusyPercent: Math.round(((machineEnd.busy - machineStart.busy) / Math.max(1, machineEnd.total - machineStart.total)) * 1000) / 10,
      loadProcessesPercentOfCore: loadCpu === null ? null : Math.round((loadCpu / flowMs) * 1000) / 10,
      profile,
      connectProfile,
      meetsDeliveryTarget,
      meetsMemoryTarget,
      problems,
    };
  } finally {
    ctx.setActivity(() => 'closing the clients');
    if (publisher && publisher.exitCode === null && publisher.signalCode === null) publisher.kill('SIGKILL');
    await stopLoadProcesses(loads);
    // The server notices the closes and releases each subscription.
    await sleep(2000);
  }
}

function skippedRound(count: number, why: string): Round {
  return {
    subscribers: count,
    skipped: why,
    connected: 0,
    failedToConnect: 0,
    connectSeconds: 0,
    subscribed: 0,
    droppedByServer: 0,
    events: { published: 0, arrivedInApi: 0, publisherLateMs: 0 },
    deliveries: { expected: 0, delivered: 0 },
    deliveryMs: null,
    fanoutCompleteMs: null,
    kafkaHopMs: null,
    memory: null,
    apiCpu: null,
    machineBusyPercent: null,
    loadProcessesPercentOfCore: null,
    profile: null,
    connectProfile: null,
    meetsDeliveryTarget: false,
    meetsMemoryTarget: false,
    problems: [why],
  };
}

// ---------------------------------------------------------------------------------------------
// The benchmark

it('holds many subscribers on one API process and delivers each event to all of them', { timeout: totalBudgetMs }, async () => {
  const timestamp = new Date().toISOString();
  const loadAtStart = loadavg();
  const name = 'bench-fanout';
  const jwtSecret = randomBytes(32).toString('hex');
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName(name), MONGO_URL: uniqueMongoUrl(name), JWT_SECRET: jwtSecret, ...BENCH_RATE_LIMITS, LOG_LEVEL: params.logLevel });
  const log = createLogger(name, { level: params.logLevel });
  const limits = openFileLimits();
  await mkdir(path.dirname(params.output), { recursive: true });

  say(`fanout: ${params.counts.join(', ')} subscribers to analyticsUpdated (ADMIN, global scope), ${params.rate} events/s for ${params.flowSeconds} s each, clients in ${params.processes} load processes`);
  say(`namespace ${config.kafka.namespace} on ${config.kafka.brokers.join(',')}, database ${new URL(config.mongo.url).pathname.slice(1)}; time budget ${Math.round(totalBudgetMs / 1000)} s`);
  if (limits) say(`open files: this process (which hosts the API and holds one socket per client) may hold ${limits.soft} (hard limit ${limits.hard}); load processes raise theirs to the hard limit`);
  else say('open files: the limit could not be read (/proc/self/limits)');

  let api: ApiServer | undefined;
  let producer: Producer | undefined;
  let activity: () => string = () => 'starting';
  const rounds: Round[] = [];
  let failure: unknown;
  const progress = setInterval(() => say(`${activity()}…`), params.progressSeconds * 1000);
  progress.unref();

  const arrivals = new Map<number, number>();
  let seq = 0;
  try {
    say('starting the API…');
    api = await startApiServer(config, log, {
      port: 0,
      onSubscriptionEvent: (topic, event, arrivedAtMs) => {
        if (topic === TOPICS.analyticsUpdated) arrivals.set((event as { data: { ordersPlaced: number } }).data.ordersPlaced, arrivedAtMs);
      },
    });
    await api.subscriptionsReady();
    producer = testKafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    say(`API on ${api.websocketUrl}; its subscriptions are ready`);
    const ctx: RoundContext = {
      api,
      producer,
      brokers: config.kafka.brokers,
      topic: physicalTopic(config, TOPICS.analyticsUpdated),
      jwtSecret,
      query: print(AnalyticsUpdatedDocument),
      arrivals,
      nextSeq: () => (seq += 1),
      setActivity: (text) => (activity = text),
    };
    for (const count of params.counts) {
      // The API holds one socket per client, beside its Kafka, store and vitest files.
      if (limits && count + 256 > limits.soft) {
        const why = `skipped: this process may hold only ${limits.soft} open files (hard limit ${limits.hard}), too few for ${count} sockets plus its own; raise it (ulimit -n) before running`;
        say(why);
        rounds.push(skippedRound(count, why));
        continue;
      }
      try {
        rounds.push(await runRound(count, ctx));
      } catch (error) {
        // The other counts still run and the figures are still written; the run fails at the end.
        const why = `failed: ${error instanceof Error ? error.message : String(error)}`;
        say(`${count} subscribers: ${why}`);
        rounds.push(skippedRound(count, why));
        failure ??= error;
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(progress);
    say('cleaning up: API, producer, then the namespace’s topics and groups and the database…');
    const stopping = await Promise.allSettled([api?.stop(), producer?.disconnect()]);
    const removal = await Promise.allSettled([removeTestNamespace(config.kafka.namespace, config.mongo.url)]);
    for (const problem of [...stopping, ...removal].filter((r) => r.status === 'rejected')) say(`clean-up problem: ${String(problem.reason)}`);
  }
  if (failure && rounds.length === 0) throw failure;

  // ------------------------------------------------------------------------------------------
  // Figures

  const held = rounds.filter((r) => r.meetsDeliveryTarget).map((r) => r.subscribers);
  const subscribersHeld = held.length > 0 ? Math.max(...held) : 0;
  const largest = [...rounds].reverse().find((r) => r.memory);
  const netMicros = [...rounds].reverse().find((r) => r.apiCpu?.microsecondsPerDeliveryNetOfIdle)?.apiCpu?.microsecondsPerDeliveryNetOfIdle ?? null;
  const perCore = netMicros === null ? null : Math.floor(1e6 / netMicros);
  const report = {
    benchmark: 'fanout',
    timestamp,
    machine: { ...describeMachine(loadAtStart), openFiles: limits },
    parameters: {
      rateLimits: config.limits, // set explicitly (bench/support/rate-limits.ts)
      counts: params.counts,
      eventsPerSecond: params.rate,
      flowSeconds: params.flowSeconds,
      loadProcesses: params.processes,
      connectConcurrency: params.connectConcurrency,
      drainSeconds: params.drainSeconds,
      subscription: 'analyticsUpdated(topItems: 5), every client an ADMIN (global scope): every event goes to every socket',
      processes: 'one API instance in the benchmark process; clients in separate load processes on the same machine',
      kafkaBrokers: config.kafka.brokers,
    },
    targets: { subscribers: 10_000, p99DeliveryMs: params.targetP99Ms, memoryPerSubscriberKB: params.targetKB },
    results: rounds,
    ratios: {
      /** The largest count whose clients all subscribed and got every event, p99 within the target. */
      subscribersHeld,
      /** RSS per idle subscriber at the largest count measured, against the target. */
      memoryPerSubscriberKB: largest?.memory?.perSubscriberKB.rss ?? null,
      memoryTargetMet: largest ? largest.meetsMemoryTarget : false,
      p99DeliveryMsAtLargest: [...rounds].reverse().find((r) => r.deliveryMs)?.deliveryMs?.p99 ?? null,
      /**
       * Projections from the API's measured CPU per delivery (net of idle, at the largest count
       * measured), for a process that has a whole core to itself: deliveries per second, the
       * subscribers it keeps up with at this event rate, and how long one event's fanout to the
       * target count takes. Estimates, not measurements: here the core is shared.
       */
      deliveriesPerCoreSecond: perCore,
      subscribersPerCoreAtRate: perCore === null ? null : Math.floor(perCore / params.rate),
      fanoutOfOneEventToTargetMsOnACore: netMicros === null ? null : Math.round((10_000 * netMicros) / 1000),
    },
    totalSeconds: seconds(performance.now() - started),
  };

  const dash = '-';
  console.log(
    [
      '',
      `fanout — analyticsUpdated to every socket, ${params.rate} events/s for ${params.flowSeconds} s, ${report.machine.cpus} CPUs, Node ${process.version}`,
      table(
        ['delivery', 'connected', 'subscribed', 'delivered/expected', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'fanout p99 ms', 'Kafka hop p50 ms', 'target'],
        rounds.map((r) =>
          r.skipped
            ? [r.subscribers, dash, dash, dash, dash, dash, dash, dash, dash, dash, r.skipped.startsWith('failed') ? 'failed' : 'skipped']
            : [
                r.subscribers,
                r.connected,
                r.subscribed,
                `${r.deliveries.delivered}/${r.deliveries.expected}`,
                r.deliveryMs?.p50 ?? dash,
                r.deliveryMs?.p95 ?? dash,
                r.deliveryMs?.p99 ?? dash,
                r.deliveryMs?.max ?? dash,
                r.fanoutCompleteMs?.p99 ?? dash,
                r.kafkaHopMs?.p50 ?? dash,
                r.meetsDeliveryTarget ? 'met' : 'MISSED',
              ],
        ),
      ),
      '',
      table(
        ['resources', 'KB/sub RSS', 'KB/sub heap', 'API CPU %core', 'API idle %core', 'µs/delivery', 'net µs/delivery', 'loop p99 ms', 'load procs %core', 'machine busy %', 'memory target'],
        rounds.map((r) =>
          r.skipped
            ? [r.subscribers, dash, dash, dash, dash, dash, dash, dash, dash, dash, r.skipped.startsWith('failed') ? 'failed' : 'skipped']
            : [
                r.subscribers,
                r.memory?.perSubscriberKB.rss ?? dash,
                r.memory?.perSubscriberKB.heapUsed ?? dash,
                r.apiCpu?.percentOfCore ?? dash,
                r.apiCpu?.idlePercentOfCore ?? dash,
                r.apiCpu?.microsecondsPerDelivery ?? dash,
                r.apiCpu?.microsecondsPerDeliveryNetOfIdle ?? dash,
                r.apiCpu?.eventLoopDelayMs.p99 ?? dash,
                r.loadProcessesPercentOfCore ?? dash,
                r.machineBusyPercent ?? dash,
                r.meetsMemoryTarget ? 'met' : 'MISSED',
              ],
        ),
      ),
      '',
      `subscribersHeld: ${subscribersHeld} (targets: 10000 subscribers, p99 ≤ ${params.targetP99Ms} ms, ≤ ${params.targetKB} KB each)`,
      ...(perCore === null
        ? []
        : [
            `projected for an API with a core of its own, at ${netMicros} µs per delivery: ${perCore} deliveries/s, so ${report.ratios.subscribersPerCoreAtRate} subscribers at ${params.rate} events/s; ` +
              `one event's fanout to 10000 sockets ${report.ratios.fanoutOfOneEventToTargetMsOnACore} ms`,
          ]),
      ...rounds.flatMap((r) => r.problems.map((p) => `  ${r.subscribers}: problem: ${p}`)),
      ...rounds.flatMap((r) =>
        (
          [
            ['flow', r.profile],
            ['connecting', r.connectProfile],
          ] as const
        ).flatMap(([phase, profile]) =>
          profile
            ? [
                `  ${r.subscribers}: API CPU profile, ${phase} (${profile.sampledMs} ms sampled): ${profile.byPlace.map((p) => `${p.place} ${p.percent}%`).join(', ')}`,
                ...profile.topFunctions.slice(0, 12).map((f) => `      ${String(f.percent).padStart(5)}%  ${f.fn} [${f.place}]`),
              ]
            : [],
        ),
      ),
      `total ${report.totalSeconds} s`,
    ].join('\n'),
  );
  await mkdir(path.dirname(params.output), { recursive: true });
  await writeFile(params.output, `${JSON.stringify(report, null, 2)}\n`);
  say(`figures written to ${path.relative(process.cwd(), params.output)}`);
  if (failure) throw failure;
});
