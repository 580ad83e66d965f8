import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { answersPing } from '../mongo/ping';
import type { Logger } from '../logger';
import type { StackPaths } from './paths';
import { startPostgres, stopPostgres } from './postgres';
import { requireTool } from './prerequisites';
import { StackError } from './stack.errors';
import { assertPortFree, runningPid, startDetached, stopByPidFile, waitUntilReady } from './processes';
import { fingerprint, isUpToDate, markUpToDate, runProvisioning } from './provision';

const SOURCES = ['go.mod', 'go.sum', 'main.go'];
/** infra/ferretdb/atomic-updates.patch: single-document updates made atomic (why: its header). */
const PATCH = 'atomic-updates.patch';

/**
 * Builds FerretDB v1.24.2 from the Go module proxy into the local folder, once per machine,
 * with one patch: its modules are vendored into a build folder, the patch is applied to
 * FerretDB's copy (git apply, which refuses a patch that does not fit), and the vendored tree
 * is built.
 */
export async function ensureFerretDbBinary(paths: StackPaths, log: Logger): Promise<void> {
  const stamp = `${paths.ferretBinary}.built`;
  const print = fingerprint([...SOURCES, PATCH].map((f) => join(paths.ferretSource, f)));
  if (isUpToDate(stamp, print)) return;
  requireTool('go');
  requireTool('git');
  const build = paths.ferretBuild;
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  for (const file of [...SOURCES, PATCH]) copyFileSync(join(paths.ferretSource, file), join(build, file));
  mkdirSync(dirname(paths.ferretBinary), { recursive: true });
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '' };
  await runProvisioning({
    what: 'fetching FerretDB v1.24.2 and its modules with Go (first run only)',
    command: 'go',
    args: ['mod', 'vendor', '-v'],
    cwd: build,
    log,
    progressLine: /^(go: downloading|# )/,
    progressNoun: 'modules',
    env,
  });
  await runProvisioning({
    what: 'patching FerretDB: atomic single-document updates',
    command: 'git',
    args: ['apply', '-v', '-p1', '--directory=vendor/github.com/FerretDB/FerretDB', PATCH],
    cwd: build,
    log,
    progressLine: /^Applied patch/,
    progressNoun: 'files',
    env,
  });
  // git apply inside another repository's work tree can skip paths silently: check it landed.
  const patched = join(build, 'vendor/github.com/FerretDB/FerretDB/internal/handler/common/update.go');
  if (!readFileSync(patched, 'utf8').includes('ErrUpdateConflict')) {
    throw new StackError(`the FerretDB patch (${join(paths.ferretSource, PATCH)}) did not apply to ${patched}; nothing was built`);
  }
  await runProvisioning({
    what: 'building FerretDB v1.24.2 with Go (first run only, about a minute)',
    command: 'go',
    args: ['build', '-mod=vendor', '-v', '-trimpath', '-o', paths.ferretBinary, '.'],
    cwd: build,
    log,
    // `go build -v` names each package as it compiles it.
    progressLine: /^([a-z0-9.-]+\.[a-z]+\/|[a-z]+(\/[a-z0-9_]+)*$)/i,
    progressNoun: 'packages',
    env,
  });
  markUpToDate(stamp, print);
}

export type FerretBackend = 'postgresql' | 'sqlite';

export interface FerretDbStartOptions {
  readonly paths: StackPaths;
  readonly log: Logger;
  readonly port: number;
  /** `postgresql` (the default: the local PostgreSQL, started with it) or `sqlite` (files in the state folder). */
  readonly backend?: FerretBackend;
  /** With PostgreSQL: give FerretDB's tables a GIN index on `_jsonb->'_id'` (the default; off only to compare). */
  readonly idIndex?: boolean;
}

function runningBackend(paths: StackPaths): string | undefined {
  return existsSync(paths.ferretBackend) ? readFileSync(paths.ferretBackend, 'utf8').trim() : undefined;
}

/**
 * Starts (or finds running) FerretDB on 127.0.0.1:port, by default on the local PostgreSQL
 * (started first, see postgres.ts). Ready means it answers a ping, which reaches its backend.
 */
export async function startFerretDb(options: FerretDbStartOptions): Promise<{ url: string; started: boolean }> {
  const { paths, log, port, backend = 'postgresql', idIndex = true } = options;
  await ensureFerretDbBinary(paths, log);
  const url = `mongodb://127.0.0.1:${port}/`;
  let pid = runningPid(paths.ferretPid);
  const started = pid === undefined;
  if (pid === undefined) {
    await assertPortFree(port, 'FerretDB', 'set MONGO_PORT to a free port');
    let backendArgs: string[];
    if (backend === 'postgresql') {
      const postgres = await startPostgres({ paths, log, idIndex });
      backendArgs = ['--handler', 'postgresql', '--postgresql-url', postgres.url];
    } else {
      // The SQLite handler wants a file: URL to an existing directory, ending in a slash.
      mkdirSync(paths.ferretData, { recursive: true });
      backendArgs = ['--handler', 'sqlite', '--sqlite-url', `file:${paths.ferretData}/`];
    }
    pid = startDetached({
      command: paths.ferretBinary,
      args: ['--listen-addr', `127.0.0.1:${port}`, ...backendArgs, '--log-level', 'warn'],
      cwd: dirname(paths.ferretLog),
      logFile: paths.ferretLog,
      pidFile: paths.ferretPid,
    });
    writeFileSync(paths.ferretBackend, `${backend}\n`);
    log.info({ port, backend }, 'FerretDB starting');
  } else if (runningBackend(paths) === 'postgresql') {
    // FerretDB outlived its PostgreSQL (stopped or crashed): start it again; FerretDB reconnects.
    await startPostgres({ paths, log, idIndex });
  }
  await waitUntilReady({ what: `FerretDB (127.0.0.1:${port})`, check: () => answersPing(url), log, pid, logFile: paths.ferretLog, timeoutMs: 30_000 });
  return { url, started };
}

/** Stops FerretDB, then the PostgreSQL under it (if it runs), leaving their data in place. */
export async function stopFerretDb(paths: StackPaths, log: Logger): Promise<void> {
  await stopByPidFile(paths.ferretPid, 'FerretDB', log);
  rmSync(paths.ferretBackend, { force: true });
  await stopPostgres(paths, log);
}
