import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mongoose from 'mongoose';
import type { Logger } from '../logger';
import type { StackPaths } from './paths';
import { requireTool } from './prerequisites';
import { assertPortFree, runningPid, startDetached, stopByPidFile, waitUntilReady } from './processes';
import { fingerprint, isUpToDate, markUpToDate, runProvisioning } from './provision';

/** Builds FerretDB v1.24.2 from the Go module proxy into the local folder, once per machine. */
export async function ensureFerretDbBinary(paths: StackPaths, log: Logger): Promise<void> {
  const stamp = `${paths.ferretBinary}.built`;
  const sources = ['go.mod', 'go.sum', 'main.go'].map((f) => join(paths.ferretSource, f));
  const print = fingerprint(sources);
  if (isUpToDate(stamp, print)) return;
  requireTool('go');
  mkdirSync(dirname(paths.ferretBinary), { recursive: true });
  await runProvisioning({
    what: 'building FerretDB v1.24.2 with Go (first run only, about a minute)',
    command: 'go',
    args: ['build', '-v', '-trimpath', '-o', paths.ferretBinary, '.'],
    cwd: paths.ferretSource,
    log,
    // `go build -v` names each package as it compiles it; downloads are named too.
    progressLine: /^(go: downloading|[a-z0-9.-]+\.[a-z]+\/|[a-z]+(\/[a-z0-9_]+)*$)/i,
    progressNoun: 'packages',
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
  });
  markUpToDate(stamp, print);
}

async function answersPing(url: string): Promise<boolean> {
  const client = new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Starts (or finds running) FerretDB with its SQLite backend on 127.0.0.1:port. */
export async function startFerretDb(options: { paths: StackPaths; log: Logger; port: number }): Promise<{ url: string; started: boolean }> {
  const { paths, log, port } = options;
  await ensureFerretDbBinary(paths, log);
  const url = `mongodb://127.0.0.1:${port}/`;
  let pid = runningPid(paths.ferretPid);
  const started = pid === undefined;
  if (pid === undefined) {
    await assertPortFree(port, 'FerretDB', 'set MONGO_PORT to a free port');
    // The SQLite handler wants a file: URL to an existing directory, ending in a slash.
    mkdirSync(paths.ferretData, { recursive: true });
    pid = startDetached({
      command: paths.ferretBinary,
      args: ['--listen-addr', `127.0.0.1:${port}`, '--sqlite-url', `file:${paths.ferretData}/`, '--log-level', 'warn'],
      cwd: dirname(paths.ferretData),
      logFile: paths.ferretLog,
      pidFile: paths.ferretPid,
    });
    log.info({ port }, 'FerretDB starting');
  }
  await waitUntilReady({ what: `FerretDB (127.0.0.1:${port})`, check: () => answersPing(url), log, pid, logFile: paths.ferretLog, timeoutMs: 30_000 });
  return { url, started };
}

export async function stopFerretDb(paths: StackPaths, log: Logger): Promise<void> {
  await stopByPidFile(paths.ferretPid, 'FerretDB', log);
}
