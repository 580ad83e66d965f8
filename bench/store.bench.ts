/**
 * Store benchmark: the local MongoDB-wire store candidates, each started by this file on a
 * spare port in a temporary state folder of its own (never the running stack's):
 *
 * - `sqlite`          FerretDB v1.24.2 on SQLite (the old default)
 * - `postgresql`      FerretDB v1.24.2 on the local PostgreSQL, without the `_id` trigger
 * - `postgresql-gin`  the same with the event trigger that gives every table a GIN index on
 *                     `_jsonb->'_id'` (the devstack's default)
 *
 * With the mongodb driver (mongoose.mongo.MongoClient) on ~1.1 KB order-like documents, in
 * one collection per size (filled first; the sizes then take turns in short rounds, so a
 * change in the machine's load hits them alike) it measures, each for a few seconds: `updateOne({_id})` one at a time,
 * `updateOne({_id, status})` one at a time, `insertMany` in batches of 500 (the extra documents
 * are deleted afterwards), `bulkWrite` of 40 updateOne, and `find({_id: {$in: [100 ids]}})`.
 * Then, on the default store, it finds the largest update command (bulkWrite of n updateOne)
 * that completes, and how many 40-statement bulkWrites may run at once: FerretDB v1 holds a
 * PostgreSQL connection per statement until the command ends, so past its pool a command
 * waits forever (each probe is bounded by a timeout; the store is restarted after one hangs).
 *
 * It prints progress every few seconds and a table at the end, and writes the figures as JSON
 * (bench/results/store.json) with `ratios.updateByIdFlatness`: the default store's
 * updateOne({_id}) rate at the largest size over the rate at the smallest (target ≥ 0.8).
 *
 *   npx vitest run --config bench/vitest.bench.config.mts bench/store.bench.ts
 *   BENCH_STORE_SIZES=500,5000 BENCH_STORE_SECONDS=2 npx vitest run --config bench/vitest.bench.config.mts bench/store.bench.ts
 *
 * Parameters (environment variables, since vitest owns the command line):
 *   BENCH_STORE_CANDIDATES        which stores, in order                sqlite,postgresql,postgresql-gin
 *   BENCH_STORE_SIZES             collection sizes (documents)                              1000,50000
 *   BENCH_STORE_SECONDS           each measurement (operation × size) runs this long                 3
 *   BENCH_STORE_ROUNDS            … in this many turns, the sizes taking turns                       3
 *   BENCH_STORE_LOAD_SECONDS      filling a collection up to a size stops after this long          180
 *   BENCH_STORE_OP_TIMEOUT_SECONDS one operation longer than this ends its store's measurements at that size 30
 *   BENCH_STORE_HANG_SECONDS      an update command not answered in this long counts as hung        10
 *   BENCH_STORE_PROBE             1: probe the largest update command and concurrency; 0: skip        1
 *   BENCH_PROGRESS_SECONDS        progress line interval                                             3
 *   BENCH_LOG_LEVEL               pino level of the devstack starting the stores                  warn
 *   BENCH_STORE_OUTPUT            where the JSON goes                        bench/results/store.json
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import mongoose from 'mongoose';
import { it } from 'vitest';
import { startFerretDb, stopFerretDb, type FerretBackend } from '../src/devstack/ferretdb';
import { stackPaths, type StackPaths } from '../src/devstack/paths';
import { FERRETDB_POOL_MAX_CONNS } from '../src/devstack/postgres';
import { createLogger } from '../src/logger';
import { seconds, table } from './support/figures';
import { withTimeout } from '../src/retry';
import { describeMachine } from './support/machine';
import { whole } from './support/params';

type MongoClient = InstanceType<typeof mongoose.mongo.MongoClient>;
type Collection = ReturnType<ReturnType<MongoClient['db']>['collection']>;

// ---------------------------------------------------------------------------------------------
// Parameters

interface Candidate {
  readonly name: string;
  readonly backend: FerretBackend;
  readonly idIndex: boolean;
  readonly description: string;
}

const CANDIDATES: readonly Candidate[] = [
  { name: 'sqlite', backend: 'sqlite', idIndex: false, description: 'FerretDB 1.24.2 on SQLite (the old default)' },
  { name: 'postgresql', backend: 'postgresql', idIndex: false, description: 'FerretDB 1.24.2 on PostgreSQL, no _id trigger' },
  { name: 'postgresql-gin', backend: 'postgresql', idIndex: true, description: "FerretDB 1.24.2 on PostgreSQL + GIN on _jsonb->'_id' (the default)" },
];
const DEFAULT_STORE = 'postgresql-gin';

function candidates(): Candidate[] {
  const raw = process.env.BENCH_STORE_CANDIDATES?.trim();
  if (!raw) return [...CANDIDATES];
  return raw.split(',').map((name) => {
    const found = CANDIDATES.find((c) => c.name === name.trim());
    if (!found) throw new Error(`BENCH_STORE_CANDIDATES: unknown store "${name}"; known: ${CANDIDATES.map((c) => c.name).join(', ')}`);
    return found;
  });
}

function sizes(): number[] {
  const raw = process.env.BENCH_STORE_SIZES?.trim() || '1000,50000';
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 200 || n > 1_000_000)) throw new Error(`BENCH_STORE_SIZES must list whole numbers from 200 to 1000000, not "${raw}"`);
  return [...new Set(list)].sort((a, b) => a - b);
}

const params = {
  candidates: candidates(),
  sizes: sizes(),
  seconds: whole('BENCH_STORE_SECONDS', 3, 1, 120),
  loadSeconds: whole('BENCH_STORE_LOAD_SECONDS', 180, 5, 3600),
  opTimeoutSeconds: whole('BENCH_STORE_OP_TIMEOUT_SECONDS', 30, 1, 600),
  hangSeconds: whole('BENCH_STORE_HANG_SECONDS', 10, 2, 300),
  rounds: whole('BENCH_STORE_ROUNDS', 3, 1, 20),
  probe: whole('BENCH_STORE_PROBE', 1, 0, 1) === 1,
  progressSeconds: whole('BENCH_PROGRESS_SECONDS', 3, 1, 60),
  logLevel: process.env.BENCH_LOG_LEVEL?.trim() || 'warn',
  output: path.resolve(__dirname, '..', process.env.BENCH_STORE_OUTPUT?.trim() || 'bench/results/store.json'),
  insertBatch: 500,
  bulkUpdates: 40,
  inIds: 100,
};

// ---------------------------------------------------------------------------------------------
// Output

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[bench ${elapsed()}] ${message}`);
/** What the progress line reports; the measuring loops update it. */
let activity = 'starting';

// ---------------------------------------------------------------------------------------------
// Documents

const STATUSES = ['PLACED', 'CONFIRMED', 'PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'] as const;
const RESTAURANTS = ['pizzeria-napoli', 'sushi-sakura', 'green-bowl'] as const;
const orderId = (n: number) => `order-${String(n).padStart(8, '0')}`;

/** An order as the read model keeps it, about 1.1 KB of BSON. */
function orderDocument(n: number, extra = false): Record<string, unknown> {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000);
  return {
    _id: orderId(n),
    customerId: `customer-${n % 997}`,
    restaurantId: RESTAURANTS[n % RESTAURANTS.length],
    status: 'PLACED',
    items: [
      { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 950 },
      { menuItemId: 'tiramisu', name: 'Tiramisu della casa', quantity: 1, unitPriceCents: 650 },
      { menuItemId: 'sparkling-water', name: 'Sparkling water 0.5 l', quantity: 2, unitPriceCents: 250 },
    ],
    totalCents: 3300 + (n % 100),
    currency: 'EUR',
    deliveryAddress: `${n % 400} Benchmark Street, Apartment ${n % 37}, 10115 Berlin`,
    idempotencyKey: `idem-${n.toString(36)}-${(n * 7919).toString(36)}`,
    transactionId: `txn-${(n * 104729).toString(16).padStart(12, '0')}`,
    appliedEvents: [`evt-${n}-placed`, `evt-${n}-charged`, `evt-${n}-confirmed`],
    placedAt: at,
    updatedAt: at,
    version: 1,
    notes: 'Please ring twice; the bell on the left does not work. Leave at the door if nobody answers. '.repeat(4),
    ...(extra ? { benchExtra: true } : {}),
  };
}

const documentBytes = mongoose.mongo.BSON.calculateObjectSize(orderDocument(12345));

// ---------------------------------------------------------------------------------------------
// Measuring

class OperationTimeout extends Error {}

/** `work`, or an OperationTimeout after `ms`; the operation itself may still run on the server. */
function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(work, ms, () => new OperationTimeout(`${what} did not answer within ${ms / 1000} s`));
}

interface Measurement {
  /** Operations completed in the measured time; `units` counts updates, documents or queries (see `unit`). */
  readonly operations: number;
  readonly units: number;
  readonly unit: string;
  readonly seconds: number;
  /** Units per second. */
  readonly rate: number;
  readonly meanMs: number | null;
  readonly timedOut: boolean;
  readonly note?: string;
}

type Outcome = Measurement | { readonly skipped: string };

/** Three significant digits: 0.034, 12.3, 1234. */
const rate = (units: number, ms: number): number => (ms > 0 && units > 0 ? Number(((units * 1000) / ms).toPrecision(3)) : 0);

/** What one operation has done at one collection size, over its rounds. */
interface Tally {
  next: number;
  operations: number;
  units: number;
  ms: number;
  timedOut: boolean;
  /** The operation said it had nothing more to do (insertMany reached its cap). */
  done: boolean;
  note?: string;
}

/**
 * Runs `op` for `roundMs` (at least once), adding to `tally`; each call returns how many units
 * it did, or null when it has nothing more to do. A call longer than the op timeout ends it
 * and marks the tally timed out.
 */
async function round(label: string, op: (i: number) => Promise<number | null>, tally: Tally, roundMs: number, warmup: boolean): Promise<void> {
  const opTimeout = params.opTimeoutSeconds * 1000;
  try {
    if (warmup) {
      const warmEnd = performance.now() + Math.min(500, roundMs / 2);
      let n = 0;
      do {
        await bounded(op(tally.next++), opTimeout, label);
      } while (performance.now() < warmEnd && ++n < 20);
    }
    const start = performance.now();
    const end = start + roundMs;
    try {
      do {
        activity = `${label}: ${tally.operations} so far`;
        const units = await bounded(op(tally.next++), opTimeout, label);
        if (units === null) {
          tally.done = true;
          break;
        }
        tally.units += units;
        tally.operations += 1;
      } while (performance.now() < end);
    } finally {
      tally.ms += performance.now() - start;
    }
  } catch (error) {
    if (!(error instanceof OperationTimeout)) throw error;
    tally.timedOut = true;
    tally.note = `an operation took longer than ${params.opTimeoutSeconds} s; ${tally.operations} completed before it`;
  }
}

const toMeasurement = (t: Tally, unit: string): Measurement => ({
  operations: t.operations,
  units: t.units,
  unit,
  seconds: seconds(t.ms),
  rate: rate(t.units, t.ms),
  meanMs: t.operations > 0 ? Math.round((t.ms / t.operations) * 10) / 10 : null,
  timedOut: t.timedOut,
  ...(t.note ? { note: t.note } : {}),
});

/** A deterministic spread of ids over [0, size). */
const pick = (i: number, size: number) => (i * 7919 + 13) % size;

interface SizeResult {
  readonly requestedDocuments: number;
  readonly documents: number;
  readonly loadSeconds: number;
  readonly loadRate: number;
  readonly reachedTarget: boolean;
  readonly measurements: Partial<Record<OperationName, Outcome>>;
}

/** In this order: a read that times out (a scan) is last, so it cannot hold up the writes. */
const OPERATIONS = ['updateOneById', 'updateOneByIdAndStatus', 'insertMany500', 'bulkWrite40Updates', 'findIn100Ids'] as const;
type OperationName = (typeof OPERATIONS)[number];

const OPERATION_LABELS: Record<OperationName, string> = {
  updateOneById: 'updateOne({_id})',
  updateOneByIdAndStatus: 'updateOne({_id,status})',
  findIn100Ids: 'find({_id:{$in:100}})',
  insertMany500: 'insertMany(500)',
  bulkWrite40Updates: 'bulkWrite(40 updateOne)',
};

const OPERATION_UNITS: Record<OperationName, string> = {
  updateOneById: 'updates',
  updateOneByIdAndStatus: 'updates',
  findIn100Ids: 'queries',
  insertMany500: 'documents',
  bulkWrite40Updates: 'updates',
};

/** Fills `orders` up to `target` documents with insertMany batches, stopping after the load budget. */
async function fill(orders: Collection, target: number, label: string): Promise<{ documents: number; seconds: number; rate: number }> {
  const start = performance.now();
  const deadline = start + params.loadSeconds * 1000;
  let n = 0;
  while (n < target && performance.now() < deadline) {
    const batch = Array.from({ length: Math.min(params.insertBatch, target - n) }, (_, k) => orderDocument(n + k));
    activity = `${label}: filling the collection, ${n}/${target} documents`;
    await bounded(orders.insertMany(batch, { ordered: false }), params.opTimeoutSeconds * 1000, 'insertMany while filling');
    n += batch.length;
  }
  const spent = performance.now() - start;
  return { documents: n, seconds: seconds(spent), rate: rate(n, spent) };
}

/** One collection of the benchmark at one size: what the operations need to know about it. */
interface Sized {
  readonly orders: Collection;
  readonly documents: number;
  /** Each document's status as this benchmark last set it (the {_id, status} filter must match). */
  readonly statuses: string[];
  /** Next _id number for documents insertMany adds (and deletes again). */
  extra: number;
  /** Extra documents inserted by insertMany, at most max(documents, 5,000). */
  extraInserted: number;
}

function operation(name: OperationName, c: Sized): (i: number) => Promise<number | null> {
  const size = c.documents;
  switch (name) {
    case 'updateOneById':
      return async (i) => {
        const r = await c.orders.updateOne({ _id: orderId(pick(i, size)) as never }, { $inc: { version: 1 }, $set: { updatedAt: new Date() } });
        if (r.matchedCount !== 1) throw new Error(`updateOne({_id}) matched ${r.matchedCount}`);
        return 1;
      };
    case 'updateOneByIdAndStatus':
      return async (i) => {
        const n = pick(i + 5, size);
        const status = c.statuses[n]!;
        const next = STATUSES[(STATUSES.indexOf(status as (typeof STATUSES)[number]) + 1) % STATUSES.length]!;
        const r = await c.orders.updateOne({ _id: orderId(n) as never, status }, { $set: { status: next, updatedAt: new Date() } });
        if (r.matchedCount !== 1) throw new Error(`updateOne({_id, status}) matched ${r.matchedCount}`);
        c.statuses[n] = next;
        return 1;
      };
    case 'insertMany500':
      return async () => {
        if (c.extraInserted >= Math.max(size, 5000)) return null;
        const batch = Array.from({ length: params.insertBatch }, () => orderDocument(c.extra++, true));
        await c.orders.insertMany(batch, { ordered: false });
        c.extraInserted += batch.length;
        return batch.length;
      };
    case 'bulkWrite40Updates':
      return async (i) => {
        const r = await c.orders.bulkWrite(
          Array.from({ length: params.bulkUpdates }, (_, k) => ({
            updateOne: { filter: { _id: orderId(pick(i * params.bulkUpdates + k + 11, size)) as never }, update: { $inc: { version: 1 } } },
          })),
          { ordered: false },
        );
        if (r.matchedCount < 1) throw new Error(`bulkWrite matched ${r.matchedCount}`);
        return params.bulkUpdates;
      };
    case 'findIn100Ids':
      return async (i) => {
        const ids = [...new Set(Array.from({ length: params.inIds }, (_, k) => orderId(pick(i * params.inIds + k, size))))];
        const found = await c.orders.find({ _id: { $in: ids as never[] } }).toArray();
        if (found.length !== ids.length) throw new Error(`find $in returned ${found.length} of ${ids.length}`);
        return 1;
      };
  }
}

/**
 * Measures every operation at every size. Sizes take turns in short rounds (small, large,
 * small, large, …) so that a change in the machine's load during the run hits them alike.
 * After a call times out at a size, the later operations at that size are skipped: the call
 * may still be running on the server.
 */
async function measureAll(store: string, collections: readonly Sized[]): Promise<Partial<Record<OperationName, Outcome>>[]> {
  const results = collections.map(() => ({}) as Partial<Record<OperationName, Outcome>>);
  const poisoned = collections.map(() => false);
  const roundMs = (params.seconds * 1000) / params.rounds;
  for (const name of OPERATIONS) {
    const tallies: Tally[] = collections.map(() => ({ next: 0, operations: 0, units: 0, ms: 0, timedOut: false, done: false }));
    const warm = name === 'updateOneById' || name === 'updateOneByIdAndStatus';
    for (let r = 0; r < params.rounds; r++) {
      for (const [k, c] of collections.entries()) {
        if (poisoned[k] || tallies[k]!.timedOut || tallies[k]!.done) continue;
        await round(`${store} @${c.documents} ${OPERATION_LABELS[name]}`, operation(name, c), tallies[k]!, roundMs, warm && r === 0);
      }
    }
    for (const [k, c] of collections.entries()) {
      if (poisoned[k]) {
        results[k]![name] = { skipped: 'an earlier operation at this size timed out (it may still be running on the server)' };
        continue;
      }
      const m = toMeasurement(tallies[k]!, OPERATION_UNITS[name]);
      if (name === 'insertMany500') {
        activity = `${store} @${c.documents}: deleting the ${c.extraInserted} documents insertMany added`;
        await bounded(c.orders.deleteMany({ benchExtra: true }), params.opTimeoutSeconds * 4000, 'deleteMany of the extra documents');
        results[k]![name] = c.extraInserted >= Math.max(c.documents, 5000) ? { ...m, note: `stopped adding at ${c.extraInserted} extra documents` } : m;
        c.extraInserted = 0;
      } else {
        results[k]![name] = m;
      }
      if (m.timedOut) poisoned[k] = true;
      say(`${store} @${c.documents}: ${OPERATION_LABELS[name].padEnd(24)} ${String(m.rate).padStart(8)} ${m.unit}/s  (${m.operations} in ${m.seconds} s${m.timedOut ? ', TIMED OUT' : ''})`);
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Stores

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

const log = createLogger('bench-store', { level: params.logLevel });
/** The binary of the project's local state (built once), everything else in a temporary folder. */
const realPaths = stackPaths(process.env.LOCAL_STATE_DIR || '.local');

interface RunningStore {
  readonly candidate: Candidate;
  readonly paths: StackPaths;
  readonly stateDir: string;
  readonly port: number;
  readonly url: string;
}

async function startStore(candidate: Candidate, stateDir: string, port: number): Promise<RunningStore> {
  const paths: StackPaths = { ...stackPaths(stateDir), ferretSource: realPaths.ferretSource, ferretBinary: realPaths.ferretBinary };
  activity = `${candidate.name}: starting on 127.0.0.1:${port} in ${stateDir}`;
  const { url } = await startFerretDb({ paths, log, port, backend: candidate.backend, idIndex: candidate.idIndex });
  return { candidate, paths, stateDir, port, url };
}

function connect(url: string): Promise<MongoClient> {
  return new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: 10_000, maxPoolSize: 20 }).connect();
}

// ---------------------------------------------------------------------------------------------
// Probes: how large an update command, and how many 40-statement ones at once, complete

interface ProbeStep {
  readonly statements: number;
  readonly concurrent: number;
  readonly completed: boolean;
  readonly seconds: number;
}

/** Sends `concurrent` bulkWrites of `statements` updateOne at once; true when all answered in time. */
async function probeOnce(url: string, statements: number, concurrent: number): Promise<{ completed: boolean; seconds: number }> {
  const clients = await Promise.all(Array.from({ length: concurrent }, () => connect(url)));
  const start = performance.now();
  try {
    await bounded(
      Promise.all(
        clients.map((client, c) =>
          client
            .db('storebench')
            .collection(`orders_${params.sizes[0]}`)
            .bulkWrite(
              Array.from({ length: statements }, (_, k) => ({
                updateOne: { filter: { _id: orderId((c * statements + k) % params.sizes[0]!) as never }, update: { $inc: { version: 1 } } },
              })),
              { ordered: false },
            ),
        ),
      ),
      params.hangSeconds * 1000,
      `${concurrent} × bulkWrite of ${statements}`,
    );
    return { completed: true, seconds: seconds(performance.now() - start) };
  } catch (error) {
    if (!(error instanceof OperationTimeout)) throw error;
    return { completed: false, seconds: seconds(performance.now() - start) };
  } finally {
    await Promise.all(clients.map((c) => c.close(true).catch(() => undefined)));
  }
}

async function probe(store: RunningStore): Promise<{ steps: ProbeStep[]; largestStatements: number | null; smallestHungStatements: number | null; largestConcurrent40: number | null; smallestHungConcurrent40: number | null }> {
  let current = store;
  const steps: ProbeStep[] = [];
  const restart = async () => {
    // A hung command keeps its connections forever: only a restart frees them.
    activity = `${current.candidate.name}: restarting after a hung command`;
    await stopFerretDb(current.paths, log);
    current = await startStore(current.candidate, current.stateDir, current.port);
  };
  const pool = FERRETDB_POOL_MAX_CONNS;
  const statementSteps = [...new Set([40, 100, Math.floor(pool / 2), pool - 2, pool - 1, pool, pool + 1, pool * 2])].filter((n) => n > 0).sort((a, b) => a - b);
  let largestStatements: number | null = null;
  let smallestHungStatements: number | null = null;
  for (const statements of statementSteps) {
    activity = `probing: one bulkWrite of ${statements} updateOne (hung after ${params.hangSeconds} s)`;
    const r = await probeOnce(current.url, statements, 1);
    steps.push({ statements, concurrent: 1, ...r });
    say(`probe: 1 × bulkWrite of ${statements} updateOne: ${r.completed ? `answered in ${r.seconds} s` : `no answer after ${r.seconds} s (hung)`}`);
    if (!r.completed) {
      smallestHungStatements = statements;
      await restart();
      break;
    }
    largestStatements = statements;
  }
  let largestConcurrent40: number | null = null;
  let smallestHungConcurrent40: number | null = null;
  const most = Math.ceil(pool / (params.bulkUpdates + 1)) + 2;
  for (let concurrent = 1; concurrent <= most; concurrent++) {
    activity = `probing: ${concurrent} bulkWrites of ${params.bulkUpdates} at once`;
    // Several tries: whether commands sharing the pool block each other depends on timing.
    let completed = true;
    let spent = 0;
    for (let attempt = 0; attempt < 3 && completed; attempt++) {
      const r = await probeOnce(current.url, params.bulkUpdates, concurrent);
      completed = r.completed;
      spent = Math.max(spent, r.seconds);
    }
    steps.push({ statements: params.bulkUpdates, concurrent, completed, seconds: spent });
    say(`probe: ${concurrent} × bulkWrite of ${params.bulkUpdates} at once (3 tries): ${completed ? `all answered, slowest in ${spent} s` : `hung (no answer after ${spent} s)`}`);
    if (!completed) {
      smallestHungConcurrent40 = concurrent;
      await restart();
      break;
    }
    largestConcurrent40 = concurrent;
  }
  return { steps, largestStatements, smallestHungStatements, largestConcurrent40, smallestHungConcurrent40 };
}

// ---------------------------------------------------------------------------------------------
// The benchmark

const perSizeBudgetS = OPERATIONS.length * (params.seconds + params.opTimeoutSeconds + 2) + params.opTimeoutSeconds * 4;
const budgetMs =
  (params.candidates.length * (60 + params.loadSeconds + params.sizes.length * perSizeBudgetS) + (params.probe ? 40 * (params.hangSeconds + 15) : 0)) * 1000;

interface CandidateResult {
  readonly store: string;
  readonly description: string;
  readonly startSeconds: number;
  readonly sizes: SizeResult[];
  readonly error?: string;
}

it(`store: ${params.candidates.map((c) => c.name).join(', ')} at ${params.sizes.join(', ')} documents`, { timeout: budgetMs }, async () => {
  const timestamp = new Date().toISOString();
  const loadAtStart = loadavg();
  say(`store benchmark: ${params.candidates.map((c) => c.name).join(', ')} at ${params.sizes.join(' and ')} documents of ${documentBytes} bytes, ${params.seconds} s per measurement`);
  const progress = setInterval(() => say(`${activity}…`), params.progressSeconds * 1000);
  progress.unref();

  const results: CandidateResult[] = [];
  let probeResult: Awaited<ReturnType<typeof probe>> | undefined;
  try {
    for (const candidate of params.candidates) {
      const stateDir = mkdtempSync(path.join(tmpdir(), `store-bench-${candidate.name}-`));
      const port = await freePort();
      let store: RunningStore | undefined;
      let client: MongoClient | undefined;
      const sizeResults: SizeResult[] = [];
      const startAt = performance.now();
      try {
        say(`${candidate.name}: ${candidate.description}, starting on 127.0.0.1:${port} in ${stateDir}…`);
        store = await startStore(candidate, stateDir, port);
        const startSeconds = seconds(performance.now() - startAt);
        client = await connect(store.url);
        const db = client.db('storebench');
        const collections: Sized[] = [];
        const loads: Awaited<ReturnType<typeof fill>>[] = [];
        for (const size of params.sizes) {
          const label = `${candidate.name} @${size}`;
          const orders = db.collection(`orders_${size}`);
          const loaded = await fill(orders, size, label);
          say(`${label}: ${loaded.documents} documents (filled at ${loaded.rate} docs/s${loaded.documents >= size ? '' : `; stopped after BENCH_STORE_LOAD_SECONDS=${params.loadSeconds}`})`);
          collections.push({ orders, documents: loaded.documents, statuses: Array.from({ length: loaded.documents }, () => 'PLACED'), extra: 10_000_000, extraInserted: 0 });
          loads.push(loaded);
          if (loaded.documents < size) break;
        }
        const measured = await measureAll(candidate.name, collections);
        for (const [k, c] of collections.entries()) {
          const requested = params.sizes[k]!;
          sizeResults.push({ requestedDocuments: requested, documents: c.documents, loadSeconds: loads[k]!.seconds, loadRate: loads[k]!.rate, reachedTarget: c.documents >= requested, measurements: measured[k]! });
        }
        results.push({ store: candidate.name, description: candidate.description, startSeconds, sizes: sizeResults });
        if (params.probe && candidate.name === DEFAULT_STORE) {
          await client.close();
          client = undefined;
          probeResult = await probe(store);
        }
      } catch (error) {
        say(`${candidate.name}: failed: ${error instanceof Error ? error.message : String(error)}`);
        results.push({ store: candidate.name, description: candidate.description, startSeconds: 0, sizes: sizeResults, error: String(error) });
      } finally {
        activity = `${candidate.name}: stopping and removing ${stateDir}`;
        await client?.close(true).catch(() => undefined);
        if (store) await stopFerretDb(store.paths, log);
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  } finally {
    clearInterval(progress);
  }

  // ------------------------------------------------------------------------------------------
  // Figures

  const rateOf = (store: string, size: number, op: OperationName): number | null => {
    const s = results.find((r) => r.store === store)?.sizes.find((x) => x.requestedDocuments === size);
    const m = s?.measurements[op];
    return m && 'rate' in m && !(m.timedOut && m.operations === 0) ? m.rate : null;
  };
  const smallest = params.sizes[0]!;
  const largest = params.sizes.at(-1)!;
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const flatness = (store: string, op: OperationName) => ratio(rateOf(store, largest, op), rateOf(store, smallest, op));
  const ratios = {
    /** The default store's updateOne({_id}) rate at the largest size over the smallest: target ≥ 0.8. */
    updateByIdFlatness: flatness(DEFAULT_STORE, 'updateOneById'),
    updateByIdAndStatusFlatness: flatness(DEFAULT_STORE, 'updateOneByIdAndStatus'),
    bulkWriteFlatness: flatness(DEFAULT_STORE, 'bulkWrite40Updates'),
    /** How many times faster the default store updates by _id than SQLite, at the largest size. */
    updateByIdVsSqliteAtLargest: ratio(rateOf(DEFAULT_STORE, largest, 'updateOneById'), rateOf('sqlite', largest, 'updateOneById')),
    /** … and than PostgreSQL without the trigger. */
    updateByIdVsNoIndexAtLargest: ratio(rateOf(DEFAULT_STORE, largest, 'updateOneById'), rateOf('postgresql', largest, 'updateOneById')),
    perStore: Object.fromEntries(results.map((r) => [r.store, Object.fromEntries(OPERATIONS.map((op) => [op, flatness(r.store, op)]))])),
  };
  const report = {
    benchmark: 'store',
    timestamp,
    machine: describeMachine(loadAtStart),
    parameters: {
      stores: params.candidates.map((c) => c.name),
      sizes: params.sizes,
      secondsPerMeasurement: params.seconds,
      loadSeconds: params.loadSeconds,
      opTimeoutSeconds: params.opTimeoutSeconds,
      hangSeconds: params.hangSeconds,
      documentBytes,
      insertBatch: params.insertBatch,
      bulkWriteUpdates: params.bulkUpdates,
      findInIds: params.inIds,
      ferretdbPoolMaxConns: FERRETDB_POOL_MAX_CONNS,
      units: { updateOneById: 'updates/s', updateOneByIdAndStatus: 'updates/s', findIn100Ids: 'queries/s', insertMany500: 'documents/s', bulkWrite40Updates: 'updates/s' },
    },
    results,
    ratios,
    probe: probeResult ?? null,
    totalSeconds: seconds(performance.now() - started),
  };

  const unitsPerOperation: Record<OperationName, number> = { updateOneById: 1, updateOneByIdAndStatus: 1, findIn100Ids: 1, insertMany500: params.insertBatch, bulkWrite40Updates: params.bulkUpdates };
  const cell = (op: OperationName, m: Measurement | { skipped: string } | undefined): string => {
    if (!m) return '-';
    if ('skipped' in m) return 'skipped';
    if (m.timedOut && m.operations === 0) return `<${Math.round((unitsPerOperation[op] / params.opTimeoutSeconds) * 100) / 100}`;
    return `${m.rate}${m.timedOut ? '*' : ''}`;
  };
  const rows = results.flatMap((r) =>
    r.sizes.map((s) => [r.store, `${s.documents}${s.reachedTarget ? '' : ` (of ${s.requestedDocuments})`}`, ...OPERATIONS.map((op) => cell(op, s.measurements[op]))]),
  );
  console.log(
    [
      '',
      `store benchmark — ${documentBytes}-byte order documents, ${params.seconds} s per measurement, ${report.machine.cpus} CPUs, Node ${process.version}`,
      table(['store', 'documents', 'updateOne {_id} /s', '{_id,status} /s', 'insertMany docs/s', 'bulkWrite 40 upd/s', 'find $in 100 q/s'], rows),
      '(* an operation timed out: the rate counts what completed before it; < : none completed within the timeout)',
      '',
      `updateOne({_id}) flatness of ${DEFAULT_STORE}, ${largest} vs ${smallest} documents: ${ratios.updateByIdFlatness ?? 'n/a'} (target ≥ 0.8); ` +
        `at ${largest}: ${ratios.updateByIdVsSqliteAtLargest ?? 'n/a'}× SQLite, ${ratios.updateByIdVsNoIndexAtLargest ?? 'n/a'}× PostgreSQL without the index`,
      ...(probeResult
        ? [
            `largest update command that completes (pool_max_conns=${FERRETDB_POOL_MAX_CONNS}): ${probeResult.largestStatements ?? 'none'} statements` +
              (probeResult.smallestHungStatements !== null ? `; ${probeResult.smallestHungStatements} hung` : '; none hung'),
            `40-statement bulkWrites at once that complete: ${probeResult.largestConcurrent40 ?? 'none'}` +
              (probeResult.smallestHungConcurrent40 !== null ? `; ${probeResult.smallestHungConcurrent40} hung` : '; none hung'),
          ]
        : []),
      `total ${report.totalSeconds} s`,
    ].join('\n'),
  );
  await mkdir(path.dirname(params.output), { recursive: true });
  await writeFile(params.output, `${JSON.stringify(report, null, 2)}\n`);
  say(`figures written to ${path.relative(process.cwd(), params.output)}`);

  const failed = results.filter((r) => r.error);
  if (failed.length > 0) throw new Error(`store(s) failed: ${failed.map((r) => `${r.store}: ${r.error}`).join('; ')}`);
});
