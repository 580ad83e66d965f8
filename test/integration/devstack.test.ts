/**
 * The local stack's process handling against real sockets and real processes: a taken port
 * is named in one sentence, a missing tool is named in one sentence, and FerretDB refuses a
 * taken port but starts (with its own PostgreSQL), answers and stops on a free one; the
 * tables it creates get the GIN index on `_jsonb->'_id'` and updates by `_id` use it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { startFerretDb, stopFerretDb } from '../../src/devstack/ferretdb';
import { stackPaths, type StackPaths } from '../../src/devstack/paths';
import { ensurePostgresInstalled, newestPostgresBin, postgresPid, psql } from '../../src/devstack/postgres';
import { requireTool, type ToolName } from '../../src/devstack/prerequisites';
import { assertPortFree, isAlive, runningPid } from '../../src/devstack/processes';
import { StackError } from '../../src/devstack/stack.errors';
import { createLogger } from '../../src/logger';

const log = createLogger('test', { level: 'silent' });

/** A server listening on a port the system picked as free, on the address the stack checks. */
async function occupyFreePort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, port: address.port };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Polls `check` until it is true or `timeoutMs` has passed (statistics reach pg_stat views asynchronously). */
async function waitForValue(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Runs `action` and returns what it rejected with (fails the test if it resolved). */
async function rejection(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('assertPortFree', () => {
  it('rejects with a StackError naming the port and how to move when a server listens on it', async () => {
    const { server, port } = await occupyFreePort();
    try {
      const error = await rejection(() => assertPortFree(port, 'Test service', 'set TEST_PORT to a free port'));
      expect(error).toBeInstanceOf(StackError);
      expect((error as StackError).message).toContain(String(port));
      expect((error as StackError).message).toContain('set TEST_PORT to a free port');
    } finally {
      await close(server);
    }
  });

  it('resolves for a port nothing listens on', async () => {
    const { server, port } = await occupyFreePort();
    await close(server);
    await expect(assertPortFree(port, 'Test service', 'set TEST_PORT to a free port')).resolves.toBeUndefined();
  });
});

describe('requireTool with the tool missing from PATH', () => {
  const cases: ReadonlyArray<{ tool: ToolName; label: string; installs: string }> = [
    { tool: 'java', label: 'Java', installs: 'install Java 17 or newer' },
    { tool: 'mvn', label: 'Maven', installs: 'install Maven 3.6 or newer' },
    { tool: 'go', label: 'Go', installs: 'install Go 1.24 or newer' },
  ];

  it.each(cases)('throws one sentence naming $label and what to install ($tool)', ({ tool, label, installs }) => {
    let thrown: unknown;
    try {
      requireTool(tool, { PATH: '/nonexistent' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StackError);
    const message = (thrown as StackError).message;
    expect(message.startsWith(`${label} was not found`)).toBe(true);
    expect(message).toContain(installs);
    expect(message).toContain(`\`${tool}\``);
    // One sentence: no line breaks, no stack frames or errno codes, one full stop at the end.
    expect(message).not.toMatch(/\n/);
    expect(message).not.toMatch(/\bat \S+ \(|ENOENT|spawnSync/);
    expect(message).not.toMatch(/[.!?]\s/);
    expect(message.endsWith('.')).toBe(true);
  });
});

describe('ensurePostgresInstalled where PostgreSQL is missing and apt-get may not run', () => {
  it('throws one sentence saying what to install', async () => {
    const error = await rejection(() => ensurePostgresInstalled(log, { root: '/nonexistent/postgresql', asRoot: false }));
    expect(error).toBeInstanceOf(StackError);
    const message = (error as StackError).message;
    expect(message.startsWith('PostgreSQL was not found')).toBe(true);
    expect(message).toContain('apt-get install postgresql');
    expect(message).not.toMatch(/\n/);
    expect(message).not.toMatch(/[.!?]\s/);
    expect(message.endsWith('.')).toBe(true);
  });
});

describe('startFerretDb', () => {
  const real = stackPaths(process.env.LOCAL_STATE_DIR || '.local');
  const stateDir = mkdtempSync(join(tmpdir(), 'ferretdb-test-'));
  // The real binary (so nothing is rebuilt), but its own PostgreSQL cluster, data, log and
  // pid files in a folder of its own, so the FerretDB the other tests use is neither found
  // nor touched.
  const paths: StackPaths = { ...stackPaths(stateDir), ferretSource: real.ferretSource, ferretBinary: real.ferretBinary };
  let port = 0;

  afterAll(async () => {
    await stopFerretDb(paths, log);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('refuses a taken port with a StackError naming it, starting nothing', async () => {
    const occupied = await occupyFreePort();
    port = occupied.port;
    try {
      const error = await rejection(() => startFerretDb({ paths, log, port }));
      expect(error).toBeInstanceOf(StackError);
      expect((error as StackError).message).toContain(`Port ${port} (FerretDB)`);
      expect((error as StackError).message).toContain('MONGO_PORT');
      expect(existsSync(paths.ferretPid)).toBe(false);
      expect(postgresPid(paths)).toBeUndefined();
    } finally {
      await close(occupied.server);
    }
  });

  it('starts a second FerretDB and its PostgreSQL on the port once it is free, which answers a ping', async () => {
    expect(port).toBeGreaterThan(0);
    const { url, started } = await startFerretDb({ paths, log, port });
    expect(started).toBe(true);
    expect(url).toBe(`mongodb://127.0.0.1:${port}/`);
    const pid = runningPid(paths.ferretPid);
    expect(pid).toBeDefined();
    expect(pid).not.toBe(runningPid(real.ferretPid));
    expect(postgresPid(paths)).toBeDefined();
    expect(postgresPid(paths)).not.toBe(postgresPid(real));
    const client = new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.connect();
      expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('gives a collection created through FerretDB a GIN index on _jsonb->\'_id\', which updateOne by _id uses', async () => {
    const bin = newestPostgresBin()!;
    const sql = (query: string) => psql(bin, paths.postgresSocketDir, 'ferretdb', ['-tAc', query]).trim();
    const client = new mongoose.mongo.MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.connect();
      const orders = client.db('gin_check').collection<{ _id: string; status: string }>('orders');
      await orders.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: `o-${i}`, status: 'PLACED' })));
      const indexes = sql(`SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'gin_check' AND indexdef LIKE '%USING gin%'`);
      expect(indexes).toMatch(/^orders_[0-9a-f]{8}_id_gin CREATE INDEX .* USING gin \(\(\(_jsonb -> '_id'::text\)\)\) WITH \(fastupdate=off\)$/);
      // FerretDB's own metadata table is left alone.
      expect(indexes).not.toContain('_ferretdb_database_metadata');
      const indexName = indexes.split(' ')[0]!;
      const table = sql(`SELECT tablename FROM pg_indexes WHERE indexname = '${indexName}'`);

      // updateOne by _id through FerretDB reads through it (its SELECT … WHERE _jsonb->'_id' @> …).
      const scans = () => Number(sql(`SELECT coalesce(idx_scan, 0) FROM pg_stat_user_indexes WHERE indexrelname = '${indexName}'`));
      const before = scans();
      const result = await orders.updateOne({ _id: 'o-42' }, { $set: { status: 'CONFIRMED' } });
      expect(result.modifiedCount).toBe(1);
      await waitForValue(() => scans() > before, 15_000);
      expect(scans()).toBeGreaterThan(before);

      // The statement FerretDB prepares for that filter keeps a plan that uses the index after
      // many executions (PostgreSQL would switch to a generic, scanning plan after five).
      const plan = psql(bin, paths.postgresSocketDir, 'ferretdb', ['-tA'],
        `PREPARE by_key(text, jsonb) AS SELECT _jsonb FROM gin_check."${table}" WHERE _jsonb->$1 @> $2;\n` +
          `${Array.from({ length: 6 }, (_, i) => `EXECUTE by_key('_id', '"o-${i}"');`).join('\n')}\n` +
          `EXPLAIN EXECUTE by_key('_id', '"o-7"');\n`);
      expect(plan).toContain(`Bitmap Index Scan on ${indexName}`);
      expect(sql('SHOW plan_cache_mode')).toBe('force_custom_plan');
    } finally {
      await client.db('gin_check').dropDatabase().catch(() => undefined);
      await client.close();
    }
  });

  it('stops it and its PostgreSQL: the processes are gone and their pid files removed', async () => {
    const pid = Number(readFileSync(paths.ferretPid, 'utf8').trim());
    const postgres = postgresPid(paths)!;
    expect(isAlive(pid)).toBe(true);
    expect(isAlive(postgres)).toBe(true);
    await stopFerretDb(paths, log);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(paths.ferretPid)).toBe(false);
    expect(isAlive(postgres)).toBe(false);
    expect(postgresPid(paths)).toBeUndefined();
  });

  it('starts again on the same cluster (no initdb) with its trigger installed once', async () => {
    const { started } = await startFerretDb({ paths, log, port });
    expect(started).toBe(true);
    expect(postgresPid(paths)).toBeDefined();
    const bin = newestPostgresBin()!;
    // The trigger was installed once and is still there.
    expect(psql(bin, paths.postgresSocketDir, 'ferretdb', ['-tAc', 'SELECT count(*) FROM pg_event_trigger']).trim()).toBe('1');
    await stopFerretDb(paths, log);
    expect(postgresPid(paths)).toBeUndefined();
  });
});
