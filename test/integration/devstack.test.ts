/**
 * The local stack's process handling against real sockets and real processes: a taken port
 * is named in one sentence, a missing tool is named in one sentence, and FerretDB refuses a
 * taken port but starts, answers and stops on a free one.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { startFerretDb, stopFerretDb } from '../../src/devstack/ferretdb';
import { stackPaths, type StackPaths } from '../../src/devstack/paths';
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

describe('startFerretDb', () => {
  const real = stackPaths('.local');
  const stateDir = mkdtempSync(join(tmpdir(), 'ferretdb-test-'));
  // The real binary (so nothing is rebuilt), but its own data, log and pid file, so the
  // FerretDB the other tests use is neither found nor touched.
  const paths: StackPaths = {
    ...real,
    ferretData: join(stateDir, 'data'),
    ferretLog: join(stateDir, 'ferretdb.log'),
    ferretPid: join(stateDir, 'ferretdb.pid'),
  };
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
    } finally {
      await close(occupied.server);
    }
  });

  it('starts a second FerretDB on the port once it is free, which answers a ping', async () => {
    expect(port).toBeGreaterThan(0);
    const { url, started } = await startFerretDb({ paths, log, port });
    expect(started).toBe(true);
    expect(url).toBe(`mongodb://127.0.0.1:${port}/`);
    const pid = runningPid(paths.ferretPid);
    expect(pid).toBeDefined();
    expect(pid).not.toBe(runningPid(real.ferretPid));
    const client = new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.connect();
      expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('stops it: the process is gone and its pid file removed', async () => {
    const pid = Number(readFileSync(paths.ferretPid, 'utf8').trim());
    expect(isAlive(pid)).toBe(true);
    await stopFerretDb(paths, log);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(paths.ferretPid)).toBe(false);
  });
});
