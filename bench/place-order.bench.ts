/**
 * placeOrder throughput against a no-op mutation, on the same server in the same run. The real
 * local Kafka and FerretDB (found running, or started by the global setup, which stops only
 * what it started), a Kafka namespace and a database of its own, one API instance in this
 * process (startApiServer) whose schema also has `benchNoop`: a mutation defined here (through
 * the product's `extraResolvers` option) that checks the caller like placeOrder does (a
 * CUSTOMER token, requireRole → requireViewer) and touches neither Kafka nor Mongo. So the
 * baseline pays for HTTP, JSON, JWT verification, Apollo's parse/validate/execute and the
 * operation limits, and placeOrder's extra cost over it is its own work: checking and pricing
 * the order, the acks=all order.placed produce (and, with BENCH_PO_IDEMPOTENCY_KEYS=1, the
 * idempotency claim in Mongo).
 *
 * The load comes from autocannon in another process (bench/place-order/runner.mjs, its API):
 * BENCH_PO_CONNECTIONS keep-alive connections, each sending its next request as soon as the
 * previous one answered, for BENCH_PO_SECONDS. Every answer's body is read: placeOrder counts
 * as ok only with status PLACED and no GraphQL error, benchNoop only with `true`. After each
 * placeOrder run the order.placed events are counted (sum of the topic's high watermarks): at
 * least one per PLACED answer, and at most one per request sent (requests cut off in flight
 * when autocannon stops were still placed). The consumers do not run: nothing consumes the
 * events.
 *
 * Each operation first runs for BENCH_PO_WARMUP_SECONDS (not measured: JIT, connection pools,
 * the producer), then placeOrder and benchNoop are measured back to back. For each: requests/s,
 * latency p50/p95/p99 (every response's time as autocannon measured it), non-2xx, transport
 * errors and wrong answers, and the API's CPU per request: the change of process.cpuUsage()
 * of this process (which hosts the API and nothing busy besides; its CPU while idle is
 * measured for a few seconds first and reported) over the run, divided by the responses.
 * Ratio placeOrderVsNoop = placeOrder requests/s ÷ benchNoop requests/s (target ≥ 0.8).
 *
 * It prints progress every few seconds and a table at the end, writes the figures, machine
 * info and the ratios as JSON (bench/results/place-order.json), removes its topics, groups and
 * database, and fails (exit code 1, after writing the JSON) when any answer was not ok or the
 * event count does not add up. Two cores are shared by the API, the load generator, Kafka and
 * the store: the ratio is the figure to compare across runs, absolute rates move with the load.
 *
 *   npx tsc -p tsconfig.build.json   # not needed by this benchmark itself
 *   npx vitest run --config bench/vitest.bench.config.mts bench/place-order.bench.ts
 *   BENCH_PO_SECONDS=5 BENCH_PO_CONNECTIONS=10 npx vitest run --config bench/vitest.bench.config.mts bench/place-order.bench.ts
 *
 * Parameters (environment variables, since vitest owns the command line):
 *   BENCH_PO_SECONDS            measured duration of each operation's run                  15
 *   BENCH_PO_CONNECTIONS        concurrent HTTP connections (autocannon)                   50
 *   BENCH_PO_WARMUP_SECONDS     unmeasured run of each operation first (0: none)            3
 *   BENCH_PO_IDEMPOTENCY_KEYS   0: placeOrder without idempotencyKey (one body for all);
 *                               1: a unique key per request (autocannon setupRequest)       0
 *   BENCH_PO_IDLE_SECONDS       how long this process's idle CPU is measured first           3
 *   BENCH_PO_PROGRESS_SECONDS   progress line interval                                      3
 *   BENCH_PO_LOG_LEVEL          pino level of the API                                   error
 *   BENCH_PO_OUTPUT             where the JSON goes            bench/results/place-order.json
 * KAFKA_TOPIC_PARTITIONS and the other product variables apply as usual.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import type { Admin } from 'kafkajs';
import { Ctx, Mutation, Resolver } from 'type-graphql';
import { inject, it } from 'vitest';
import { signAccessToken } from '../src/auth/access-token';
import { requireRole } from '../src/auth/guards';
import { physicalTopic, TOPICS } from '../src/events/topics';
import { startApiServer, type ApiServer } from '../src/http/api-server';
import { createLogger } from '../src/logger';
import type { ApiContext } from '../src/resolvers/context';
import { withRetry } from '../src/retry';
import * as ops from '../test/generated/graphql';
import { ROOT } from '../test/support/processes';
import { removeTestNamespace, testConfig, testKafka, uniqueMongoUrl, uniqueName } from '../test/support/services';
import { BENCH_RATE_LIMITS } from './support/rate-limits';
import { perSecond, seconds, summarise, table, type LatencySummary } from './support/figures';
import { describeMachine } from './support/machine';
import { whole } from './support/params';

// ---------------------------------------------------------------------------------------------
// Parameters

const params = {
  seconds: whole('BENCH_PO_SECONDS', 15, 1, 600),
  connections: whole('BENCH_PO_CONNECTIONS', 50, 1, 1000),
  warmupSeconds: whole('BENCH_PO_WARMUP_SECONDS', 3, 0, 120),
  idempotencyKeys: whole('BENCH_PO_IDEMPOTENCY_KEYS', 0, 0, 1) === 1,
  idleSeconds: whole('BENCH_PO_IDLE_SECONDS', 3, 1, 60),
  progressSeconds: whole('BENCH_PO_PROGRESS_SECONDS', 3, 1, 60),
  logLevel: process.env.BENCH_PO_LOG_LEVEL?.trim() || 'error',
  output: path.resolve(__dirname, '..', process.env.BENCH_PO_OUTPUT?.trim() || 'bench/results/place-order.json'),
  paymentToken: 'tok_visa',
};

/** autocannon's per-request timeout: a request slower than this counts as an error. */
const REQUEST_TIMEOUT_SECONDS = 30;
/** Set-up, the idle measure, checks and clean-up get this much on top of the runs. */
const FIXED_BUDGET_MS = 180_000;
/** A runner that has not ended this long after its duration is stopped (SIGKILL) and the benchmark fails. */
const RUNNER_GRACE_MS = REQUEST_TIMEOUT_SECONDS * 1000 + 15_000;
/** After a placeOrder run, how long the order.placed count may take to settle (requests cut off in flight). */
const SETTLE_TIMEOUT_MS = 15_000;

const PLACE_ORDER = print(ops.PlaceOrderDocument);
const BENCH_NOOP = 'mutation BenchNoop { benchNoop }';
const BASKET: ops.PlaceOrderInput = {
  restaurantId: 'pizzeria-napoli',
  items: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }],
  deliveryAddress: '1 Benchmark Street',
  paymentToken: params.paymentToken,
};

// ---------------------------------------------------------------------------------------------
// The baseline mutation (this benchmark's only; the product's schema has none)

@Resolver()
class BenchNoopResolver {
  @Mutation(() => Boolean, { description: 'Benchmark baseline: checks the caller as placeOrder does; touches neither Kafka nor Mongo.' })
  benchNoop(@Ctx() { identity }: ApiContext): boolean {
    requireRole(identity, ['CUSTOMER'], 'benchNoop');
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[bench ${elapsed()}] ${message}`);

// ---------------------------------------------------------------------------------------------
// One autocannon run in its own process

type Operation = 'placeOrder' | 'benchNoop';

interface RunnerResult {
  readonly durationSeconds: number;
  readonly requestsSent: number;
  readonly responses: number;
  readonly ok: number;
  readonly httpErrors: number;
  readonly graphqlErrors: number;
  readonly wrongAnswers: number;
  readonly non2xx: number;
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  readonly problems: string[];
  readonly autocannon: { requestsPerSecondAverage: number; latencyMs: Record<string, number> };
  readonly runnerCpuMs: number;
  readonly latenciesMs: number[];
}

interface Run {
  readonly result: RunnerResult;
  /** process.cpuUsage() of this process (the API) between the runner's start and its result, µs. */
  readonly apiCpuMicros: number;
  /** performance.now() span between the same two lines, ms. */
  readonly wallMs: number;
}

let runCounter = 0;

async function runLoad(operation: Operation, url: string, token: string, durationSeconds: number, label: string): Promise<Run> {
  runCounter += 1;
  const options = {
    url,
    token,
    query: operation === 'placeOrder' ? PLACE_ORDER : BENCH_NOOP,
    variables: operation === 'placeOrder' ? { input: BASKET } : {},
    expect: operation,
    keyPrefix: operation === 'placeOrder' && params.idempotencyKeys ? `bench-${runId}-run${runCounter}` : undefined,
    connections: params.connections,
    durationSeconds,
    timeoutSeconds: REQUEST_TIMEOUT_SECONDS,
    progressSeconds: params.progressSeconds,
  };
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/place-order/runner.mjs'), JSON.stringify(options)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line) > 20 && stderr.shift());
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let startedAt = 0;
  let run: Run | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: { type?: string } & Record<string, unknown>;
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      stderr.push(line);
      return;
    }
    if (message.type === 'start') {
      cpuAtStart = process.cpuUsage();
      startedAt = performance.now();
    } else if (message.type === 'progress') {
      say(`${label}: ${message.seconds} s, ${message.responses} answers (${perSecond(Number(message.responses), Number(message.seconds) * 1000)}/s), not ok ${message.notOk}, errors ${message.errors}`);
    } else if (message.type === 'result') {
      const cpu = process.cpuUsage(cpuAtStart);
      run = { result: message as unknown as RunnerResult, apiCpuMicros: cpu.user + cpu.system, wallMs: performance.now() - startedAt };
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      stderr.push(`could not start: ${error.message}`);
      resolve(null);
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<'overdue'>((resolve) => (timer = setTimeout(() => resolve('overdue'), durationSeconds * 1000 + RUNNER_GRACE_MS)));
  const outcome = await Promise.race([exited, overdue]);
  clearTimeout(timer);
  if (outcome === 'overdue') {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${label}: the autocannon runner did not finish within ${durationSeconds} s + ${RUNNER_GRACE_MS / 1000} s; stopped it`);
  }
  if (outcome !== 0 || !run) throw new Error(`${label}: the autocannon runner exited with ${outcome}: ${stderr.join('\n')}`);
  return run;
}

// ---------------------------------------------------------------------------------------------
// Figures of one run

interface OperationFigures {
  readonly operation: Operation;
  readonly durationSeconds: number;
  readonly requestsSent: number;
  readonly responses: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary | null;
  readonly ok: number;
  readonly non2xx: number;
  readonly graphqlErrors: number;
  readonly wrongAnswers: number;
  readonly transportErrors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  readonly firstProblems: string[];
  /** The API process's CPU (user + system) over the run, per answered request. */
  readonly apiCpuMsPerRequest: number;
  /** The same as a share of one core over the run. */
  readonly apiCpuPercentOfOneCore: number;
  readonly loadGeneratorCpuMsPerRequest: number;
  /** autocannon's own (HDR histogram) figures, as a cross-check. */
  readonly autocannon: RunnerResult['autocannon'];
  /** placeOrder only: order.placed events produced during the run (sum of high watermarks). */
  readonly orderPlacedEvents?: number;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

function figuresOf(operation: Operation, run: Run, orderPlacedEvents?: number): OperationFigures {
  const r = run.result;
  const spanMs = r.durationSeconds * 1000;
  return {
    operation,
    durationSeconds: r.durationSeconds,
    requestsSent: r.requestsSent,
    responses: r.responses,
    requestsPerSecond: perSecond(r.responses, spanMs),
    latencyMs: summarise(r.latenciesMs),
    ok: r.ok,
    non2xx: r.non2xx,
    graphqlErrors: r.graphqlErrors,
    wrongAnswers: r.wrongAnswers,
    transportErrors: r.errors,
    timeouts: r.timeouts,
    statusCodes: r.statusCodes,
    firstProblems: r.problems,
    apiCpuMsPerRequest: r.responses > 0 ? Math.round((run.apiCpuMicros / 1000 / r.responses) * 1000) / 1000 : 0,
    apiCpuPercentOfOneCore: run.wallMs > 0 ? Math.round((run.apiCpuMicros / 1000 / run.wallMs) * 1000) / 10 : 0,
    loadGeneratorCpuMsPerRequest: r.responses > 0 ? Math.round((r.runnerCpuMs / r.responses) * 1000) / 1000 : 0,
    autocannon: r.autocannon,
    ...(orderPlacedEvents === undefined ? {} : { orderPlacedEvents }),
  };
}

// ---------------------------------------------------------------------------------------------
// The benchmark

const runId = randomBytes(4).toString('hex');
const budgetMs = (params.warmupSeconds * 2 + params.seconds * 2) * 1000 + 4 * RUNNER_GRACE_MS + FIXED_BUDGET_MS;

async function orderPlacedCount(admin: Admin, topic: string): Promise<number> {
  return (await withRetry(() => admin.fetchTopicOffsets(topic))).reduce((sum, p) => sum + Number(p.high), 0);
}

/** Waits until the count has not moved for a second (requests cut off in flight finish producing). */
async function settledCount(admin: Admin, topic: string): Promise<number> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let last = await orderPlacedCount(admin, topic);
  for (;;) {
    await sleep(1000);
    const now = await orderPlacedCount(admin, topic);
    if (now === last || performance.now() > deadline) return now;
    last = now;
  }
}

it(`placeOrder vs a no-op mutation: ${params.connections} connections, ${params.seconds} s each`, { timeout: budgetMs }, async () => {
  const timestamp = new Date().toISOString();
  const loadAtStart = loadavg();
  const name = 'bench-place-order';
  const jwtSecret = randomBytes(24).toString('hex');
  const config = testConfig({ KAFKA_NAMESPACE: uniqueName(name), MONGO_URL: uniqueMongoUrl(name), JWT_SECRET: jwtSecret, ...BENCH_RATE_LIMITS, LOG_LEVEL: params.logLevel });
  const log = createLogger(name, { level: params.logLevel });
  const topic = physicalTopic(config, TOPICS.orderPlaced);

  say(
    `placeOrder vs benchNoop: ${params.connections} connections, ${params.seconds} s each after ${params.warmupSeconds} s of warm-up, ` +
      `${params.idempotencyKeys ? 'a unique idempotencyKey per placeOrder' : 'placeOrder without idempotencyKey'}`,
  );
  say(`namespace ${config.kafka.namespace} (${config.kafka.topicPartitions} partitions per topic) on ${config.kafka.brokers.join(',')}, database ${new URL(config.mongo.url).pathname.slice(1)}`);

  let api: ApiServer | undefined;
  let admin: Admin | undefined;
  let failure: unknown;
  let idleCpuPercent = 0;
  const measured: Partial<Record<Operation, OperationFigures>> = {};
  const problems: string[] = [];
  try {
    say('starting the API in this process (with benchNoop added to its schema)…');
    api = await startApiServer(config, log, { port: 0, extraResolvers: [BenchNoopResolver] });
    await api.subscriptionsReady();
    admin = testKafka().admin();
    await admin.connect();
    const token = await signAccessToken({ sub: `bench-customer-${runId}`, role: 'CUSTOMER', email: `customer@bench.example` }, jwtSecret, { expiresInSeconds: 4 * 3600 });

    // One of each by hand first: a wrong set-up fails here with the server's own words.
    for (const [query, variables] of [[PLACE_ORDER, { input: { ...BASKET, idempotencyKey: params.idempotencyKeys ? `bench-${runId}-check` : null } }], [BENCH_NOOP, {}]] as const) {
      const response = await fetch(api.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_SECONDS * 1000),
      });
      const body = await response.text();
      if (!response.ok || body.includes('"errors"')) throw new Error(`a first request by hand failed: HTTP ${response.status} ${body}`);
    }
    say(`API on ${api.graphqlUrl}; both operations answer. Measuring this process's idle CPU for ${params.idleSeconds} s…`);
    const idleFrom = process.cpuUsage();
    const idleStart = performance.now();
    await sleep(params.idleSeconds * 1000);
    const idle = process.cpuUsage(idleFrom);
    idleCpuPercent = Math.round(((idle.user + idle.system) / 1000 / (performance.now() - idleStart)) * 1000) / 10;
    say(`idle: ${idleCpuPercent}% of one core (the subscription groups' fetch loops, timers)`);

    if (params.warmupSeconds > 0) {
      for (const operation of ['placeOrder', 'benchNoop'] as const) {
        say(`warm-up: ${operation} for ${params.warmupSeconds} s…`);
        await runLoad(operation, api.graphqlUrl, token, params.warmupSeconds, `warm-up ${operation}`);
      }
      await settledCount(admin, topic);
    }

    for (const operation of ['placeOrder', 'benchNoop'] as const) {
      const before = operation === 'placeOrder' ? await orderPlacedCount(admin, topic) : 0;
      say(`measuring ${operation}: ${params.connections} connections for ${params.seconds} s…`);
      const run = await runLoad(operation, api.graphqlUrl, token, params.seconds, operation);
      let events: number | undefined;
      if (operation === 'placeOrder') {
        say('counting order.placed events (waiting for requests cut off in flight)…');
        events = (await settledCount(admin, topic)) - before;
      }
      const figures = figuresOf(operation, run, events);
      measured[operation] = figures;
      say(`${operation}: ${figures.responses} answers, ${figures.requestsPerSecond}/s, p99 ${figures.latencyMs?.p99 ?? '-'} ms, not ok ${figures.responses - figures.ok}, transport errors ${figures.transportErrors}`);

      const notOk = figures.non2xx + figures.graphqlErrors + figures.wrongAnswers;
      if (notOk > 0) problems.push(`${operation}: ${notOk} answer(s) not ok (non-2xx ${figures.non2xx}, GraphQL errors ${figures.graphqlErrors}, wrong ${figures.wrongAnswers}); first: ${figures.firstProblems[0]}`);
      if (figures.transportErrors > 0) problems.push(`${operation}: ${figures.transportErrors} transport error(s) (${figures.timeouts} timeouts)`);
      if (figures.responses === 0) problems.push(`${operation}: no answer at all`);
      if (events !== undefined && (events < figures.ok || events > figures.requestsSent)) {
        problems.push(`placeOrder: ${events} order.placed events for ${figures.ok} PLACED answers and ${figures.requestsSent} requests sent (expected between the two)`);
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    say('cleaning up: the API, then the namespace’s topics and groups and the database…');
    const stopping = await Promise.allSettled([api?.stop(), admin?.disconnect()]);
    const removal = await Promise.allSettled([removeTestNamespace(config.kafka.namespace, config.mongo.url)]);
    const cleanupProblems = [...stopping, ...removal].filter((r) => r.status === 'rejected').map((r) => String(r.reason));
    for (const problem of cleanupProblems) say(`clean-up problem: ${problem}`);
    if (cleanupProblems.length > 0) failure ??= new Error(`the clean-up failed (topics, groups or the database may be left behind): ${cleanupProblems.join('; ')}`);
  }
  if (failure) throw failure;

  // ------------------------------------------------------------------------------------------
  // Report

  const placeOrder = measured.placeOrder!;
  const noop = measured.benchNoop!;
  const report = {
    benchmark: 'place-order',
    timestamp,
    passed: problems.length === 0,
    problems,
    machine: describeMachine(loadAtStart),
    parameters: {
      rateLimits: config.limits, // set explicitly (bench/support/rate-limits.ts)
      seconds: params.seconds,
      connections: params.connections,
      warmupSeconds: params.warmupSeconds,
      idempotencyKeys: params.idempotencyKeys,
      paymentToken: params.paymentToken,
      placeOrderSelection: 'the app’s PlaceOrder operation (test/operations/orders.graphql, ...OrderFields)',
      requestTimeoutSeconds: REQUEST_TIMEOUT_SECONDS,
      topicPartitions: config.kafka.topicPartitions,
      kafkaBrokers: config.kafka.brokers,
      store: inject('mongoUrl'),
      processes: 'one API instance in the benchmark process; autocannon 9 (bench/place-order/runner.mjs) in a process of its own; no consumers',
      apiCpu: 'process.cpuUsage() of the benchmark process over each run (it hosts the API; its idle CPU is idleCpuPercentOfOneCore)',
    },
    idleCpuPercentOfOneCore: idleCpuPercent,
    results: { placeOrder, benchNoop: noop },
    ratios: {
      /** placeOrder requests/s ÷ benchNoop requests/s on the same server in the same run (target ≥ 0.8). */
      placeOrderVsNoop: noop.requestsPerSecond > 0 ? round2(placeOrder.requestsPerSecond / noop.requestsPerSecond) : null,
      /** placeOrder's API CPU per request ÷ benchNoop's. */
      apiCpuPerRequestPlaceOrderVsNoop: noop.apiCpuMsPerRequest > 0 ? round2(placeOrder.apiCpuMsPerRequest / noop.apiCpuMsPerRequest) : null,
    },
    totalSeconds: seconds(performance.now() - started),
  };

  const row = (f: OperationFigures) => [
    f.operation,
    f.responses,
    f.requestsPerSecond,
    f.latencyMs?.p50 ?? '-',
    f.latencyMs?.p95 ?? '-',
    f.latencyMs?.p99 ?? '-',
    f.latencyMs?.max ?? '-',
    f.responses - f.ok,
    f.transportErrors,
    f.apiCpuMsPerRequest,
    f.apiCpuPercentOfOneCore,
  ];
  console.log(
    [
      '',
      `placeOrder vs benchNoop — ${params.connections} connections, ${params.seconds} s each, ${params.idempotencyKeys ? 'unique idempotency keys' : 'no idempotency key'}, ${report.machine.cpus} CPUs, Node ${process.version}`,
      table(['operation', 'answers', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'not ok', 'errors', 'API CPU ms/req', 'API CPU %'], [row(placeOrder), row(noop)]),
      '',
      `placeOrderVsNoop ${report.ratios.placeOrderVsNoop} (target ≥ 0.8); API CPU per request placeOrder/noop ${report.ratios.apiCpuPerRequestPlaceOrderVsNoop}; ` +
        `API idle ${idleCpuPercent}% of a core; order.placed events ${placeOrder.orderPlacedEvents} for ${placeOrder.ok} PLACED answers (${placeOrder.requestsSent} sent)`,
      `correctness: ${report.passed ? 'PASSED' : 'FAILED'}`,
      ...problems.map((p) => `  problem: ${p}`),
      `total ${report.totalSeconds} s`,
    ].join('\n'),
  );
  await mkdir(path.dirname(params.output), { recursive: true });
  await writeFile(params.output, `${JSON.stringify(report, null, 2)}\n`);
  say(`figures written to ${path.relative(process.cwd(), params.output)}`);

  if (!report.passed) throw new Error(`not every answer was ok: ${problems.join('; ')}`);
});
