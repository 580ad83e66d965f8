/**
 * The PostgreSQL under the local FerretDB: Debian's PostgreSQL binaries, a cluster of our own
 * in `<LOCAL_STATE_DIR>/postgres/data`, listening on a unix socket in the state folder only
 * (no TCP port to collide with), run as the `postgres` OS user when we are root (PostgreSQL
 * refuses to run as root) and as ourselves otherwise. Its database `ferretdb` carries an event
 * trigger that gives every table FerretDB creates a GIN index on `_jsonb->'_id'`, the
 * expression FerretDB's `_id` filters (`_jsonb->'_id' @> '"…"'`) can use; without it every
 * update by `_id` scans the table.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Logger } from '../logger';
import type { StackPaths } from './paths';
import { isAlive, tail } from './processes';
import { isUpToDate, markUpToDate, runProvisioning } from './provision';
import { StackError } from './stack.errors';

const execFileAsync = promisify(execFile);

/** Where Debian puts each installed major version's binaries: /usr/lib/postgresql/<major>/bin. */
export const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';

/**
 * FerretDB's connection pool (its default is 50). FerretDB v1 keeps one connection per
 * statement of an update command until the command ends, plus one for the write: an
 * update or bulkWrite of n updateOne needs n + 1 connections, and commands that together
 * need more than the pool wait for each other forever. 200 lets a 199-statement command
 * through, or four 40-statement ones at once. Idle connections close after a minute.
 */
export const FERRETDB_POOL_MAX_CONNS = 200;

/** Above the pool, with room for psql and PostgreSQL's reserved superuser slots. */
export const POSTGRES_MAX_CONNECTIONS = FERRETDB_POOL_MAX_CONNS + 30;

/** The superuser initdb creates, and the role FerretDB connects as (trust, over the socket only). */
export const POSTGRES_ROLE = 'postgres';

export const FERRETDB_DATABASE = 'ferretdb';

/** The sentence for a machine without PostgreSQL where we may not install it. */
const INSTALL_POSTGRES =
  'PostgreSQL was not found: install PostgreSQL 15 or newer (Debian: sudo apt-get install postgresql, which puts it in /usr/lib/postgresql/<version>/bin), then run the command again.';

/** The newest `/usr/lib/postgresql/<major>/bin` holding the server, initdb, pg_ctl and psql. */
export function newestPostgresBin(root: string = DEBIAN_POSTGRES_ROOT): string | undefined {
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (['postgres', 'initdb', 'pg_ctl', 'psql'].every((tool) => existsSync(join(bin, tool)))) return bin;
  }
  return undefined;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Finds Debian's PostgreSQL, installing it with apt-get first when it is missing and we are
 * root; otherwise one sentence saying what to install. Returns its bin folder.
 */
export async function ensurePostgresInstalled(log: Logger, options: { root?: string; asRoot?: boolean } = {}): Promise<string> {
  const root = options.root ?? DEBIAN_POSTGRES_ROOT;
  const found = newestPostgresBin(root);
  if (found) return found;
  const canInstall = (options.asRoot ?? isRoot()) && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) throw new StackError(INSTALL_POSTGRES);
  // Debian's package also creates (and may try to start) its own cluster, `main` on port 5432:
  // ours lives in the state folder and listens on a socket there only, so neither sees the other.
  await runProvisioning({
    what: 'installing PostgreSQL with apt-get (first run only, a minute or two)',
    command: 'sh',
    args: ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql'],
    cwd: '/',
    log,
    progressLine: /^(Get:|Selecting|Preparing|Unpacking|Setting up)/,
    progressNoun: 'steps',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = newestPostgresBin(root);
  if (!installed) throw new StackError(`apt-get installed postgresql but no PostgreSQL was found in ${root}/<version>/bin: ${INSTALL_POSTGRES.slice(INSTALL_POSTGRES.indexOf(': ') + 2)}`);
  return installed;
}

/** Who runs the server: `postgres` when we are root (PostgreSQL refuses root), else ourselves. */
interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** The command prefix that runs a program as this user. */
  readonly prefix: readonly string[];
}

function serverUser(): ServerUser {
  if (!isRoot()) {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid, prefix: [] };
  }
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new StackError(
      'PostgreSQL refuses to run as root and there is no `postgres` user to run it as: create one (Debian: apt-get install postgresql creates it), then run the command again.',
    );
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  return {
    name: 'postgres',
    uid: Number(uid.stdout.trim()),
    gid: Number(gid.stdout.trim()),
    // runuser needs no password as root; su is the fallback where util-linux lacks it.
    prefix: runuser ? [runuser, '-u', 'postgres', '--'] : ['su', 'postgres', '-s', '/bin/sh', '-c', '"$0" "$@"'],
  };
}

/** `[command, ...args]` run as the server's user. */
function asServerUser(user: ServerUser, command: string, args: readonly string[]): { command: string; args: string[] } {
  if (user.prefix.length === 0) return { command, args: [...args] };
  const [first, ...rest] = user.prefix;
  return { command: first!, args: [...rest, command, ...args] };
}

/**
 * Makes `dir` and every folder above it traversable by others (o+x, never read), so the
 * `postgres` user can reach its data inside a root-owned project or temporary folder.
 */
function makeTraversable(dir: string, log: Logger): void {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      chmodSync(d, mode | 0o001);
      log.info({ dir: d }, 'made traversable (o+x) so the postgres user can reach its data');
    }
    if (dirname(d) === d) return;
  }
}

/** The unix socket's path has to fit in sockaddr_un (107 bytes on Linux). */
export function socketPath(socketDir: string, port = 5432): string {
  return join(socketDir, `.s.PGSQL.${port}`);
}

/** What we set on top of initdb's postgresql.conf; regenerated at every start. */
export function postgresSettings(socketDir: string): string {
  return [
    '# Written by src/devstack/postgres.ts at every start; included from postgresql.conf.',
    "# Unix socket only, in the state folder: no TCP port to collide with anything.",
    "listen_addresses = ''",
    `unix_socket_directories = '${socketDir.replace(/'/g, "''")}'`,
    'unix_socket_permissions = 0700',
    `max_connections = ${POSTGRES_MAX_CONNECTIONS}`,
    'shared_buffers = 128MB',
    // fsync stays on, so a crashed process loses nothing; without waiting for the WAL flush
    // at each commit, an OS crash may lose the last few hundred ms of commits (a dev box).
    'fsync = on',
    'synchronous_commit = off',
    'max_wal_size = 1GB',
    'checkpoint_timeout = 15min',
    // FerretDB sends `_jsonb->$1 @> $2` as a prepared statement: only a plan made for the
    // actual key ('_id') matches the GIN index on `_jsonb->'_id'`; a generic plan scans.
    'plan_cache_mode = force_custom_plan',
    // JIT compiling a scan of a large collection costs more than it saves here.
    'jit = off',
    "log_destination = 'stderr'",
    'logging_collector = off',
    "log_line_prefix = '%m [%p] '",
    "timezone = 'UTC'",
    '',
  ].join('\n');
}

/** FerretDB's URL to the cluster: the socket folder as host, the pool sized for the server. */
export function postgresUrl(socketDir: string): string {
  const params = `host=${encodeURIComponent(socketDir)}&pool_max_conns=${FERRETDB_POOL_MAX_CONNS}&pool_max_conn_idle_time=1m`;
  return `postgres://${POSTGRES_ROLE}@/${FERRETDB_DATABASE}?${params}`;
}

/**
 * The event trigger: after each CREATE TABLE in a FerretDB schema (a table with a `_jsonb
 * jsonb` column, not FerretDB's own `_ferretdb_*` metadata table), a GIN index on
 * `_jsonb->'_id'`, named `<table>_id_gin`. Also indexes such tables that already exist.
 * Idempotent: run once per cluster (and again only if this text changes).
 *
 * `fastupdate = off`: by default GIN buffers new entries in a pending list that every lookup
 * reads from end to end until VACUUM merges it; after loading 50,000 documents each lookup
 * by `_id` took 35 ms instead of 0.04 ms. Every update adds an entry (it writes a new row
 * version), so the index is kept without that list.
 */
export const ID_INDEX_SQL = String.raw`
CREATE OR REPLACE FUNCTION public.devstack_index_ferretdb_id(tab oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  schema_name text;
  table_name text;
  index_name text;
BEGIN
  SELECT n.nspname, c.relname INTO schema_name, table_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = tab AND c.relkind = 'r';
  IF table_name IS NULL
     OR schema_name IN ('public', 'information_schema') OR schema_name LIKE 'pg\_%'
     OR table_name LIKE '\_ferretdb\_%'
     OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tab AND a.attname = '_jsonb'
                    AND a.atttypid = 'jsonb'::regtype AND NOT a.attisdropped) THEN
    RETURN;
  END IF;
  index_name := CASE WHEN length(table_name) <= 56 THEN table_name || '_id_gin'
                     ELSE left(table_name, 50) || '_' || to_hex(tab::bigint) || '_gin' END;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb->''_id'')) WITH (fastupdate = off)', index_name, schema_name, table_name);
  -- An index made by an earlier version of this script may still buffer its entries.
  EXECUTE format('ALTER INDEX %I.%I SET (fastupdate = off)', schema_name, index_name);
END
$fn$;

CREATE OR REPLACE FUNCTION public.devstack_index_ferretdb_tables() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands()
                  WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM public.devstack_index_ferretdb_id(created.objid);
  END LOOP;
END
$fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'devstack_index_ferretdb_tables') THEN
    CREATE EVENT TRIGGER devstack_index_ferretdb_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
      EXECUTE FUNCTION public.devstack_index_ferretdb_tables();
  END IF;
END
$do$;

SELECT public.devstack_index_ferretdb_id(c.oid) FROM pg_class c WHERE c.relkind = 'r';
`;

/** Runs psql over the socket as the superuser role; its output, or a StackError with psql's own words. */
export function psql(bin: string, socketDir: string, database: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-U', POSTGRES_ROLE, '-d', database, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
      cwd: '/',
    });
  } catch (error) {
    const said = (error as { stderr?: string }).stderr?.trim() || String(error);
    throw new StackError(`psql on the local PostgreSQL (${socketDir}) failed: ${said}`, { cause: error });
  }
}

/** False when /proc shows that `pid` is some other program (a stale postmaster.pid after a reboot). */
function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true; // no /proc to ask: trust the pid
  }
}

/** The postmaster's pid (first line of data/postmaster.pid) while it runs. */
export function postgresPid(paths: StackPaths): number | undefined {
  const file = join(paths.postgresData, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostgresProcess(pid) ? pid : undefined;
}

function chown(path: string, user: ServerUser): void {
  if (isRoot()) chownSync(path, user.uid, user.gid);
}

/** initdb, once per state folder: UTF8, C locale (both as FerretDB requires), trust over the socket only. */
async function initCluster(bin: string, paths: StackPaths, user: ServerUser, log: Logger): Promise<void> {
  if (existsSync(join(paths.postgresData, 'PG_VERSION'))) return;
  const { command, args } = asServerUser(user, join(bin, 'initdb'), [
    '--pgdata', paths.postgresData,
    '--username', POSTGRES_ROLE,
    '--auth-local', 'trust',
    '--auth-host', 'reject',
    '--encoding', 'UTF8',
    '--no-locale',
  ]);
  await runProvisioning({
    what: `creating the PostgreSQL cluster in ${paths.postgresData} (initdb, first run only)`,
    command,
    args,
    cwd: paths.postgresDir,
    log,
    // initdb flushes "step ... " before it prints "ok", so count the steps by their first word.
    progressLine: /^(creating|selecting|running|performing|syncing|initializing)\b/,
    progressNoun: 'steps',
  });
  const conf = join(paths.postgresData, 'postgresql.conf');
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n# The local stack's settings (src/devstack/postgres.ts)\ninclude 'devstack.conf'\n`);
}

/** `pg_ctl start --wait` as the server's user, with a progress line every few seconds (crash recovery can take a while). */
async function runPgCtlStart(bin: string, paths: StackPaths, user: ServerUser, log: Logger): Promise<void> {
  const { command, args } = asServerUser(user, join(bin, 'pg_ctl'), [
    'start', '--pgdata', paths.postgresData, '--log', paths.postgresLog, '--wait', '--timeout', '120', '--silent',
  ]);
  const startedAt = Date.now();
  const seconds = () => ((Date.now() - startedAt) / 1000).toFixed(1);
  log.info({ socket: paths.postgresSocketDir }, 'PostgreSQL starting');
  const timer = setInterval(() => log.info({ seconds: Math.round((Date.now() - startedAt) / 1000) }, 'waiting for PostgreSQL'), 5000);
  try {
    await execFileAsync(command, args, { cwd: paths.postgresDir });
  } catch (error) {
    throw new StackError(`PostgreSQL did not start; its log (${paths.postgresLog}) ends with:\n${tail(paths.postgresLog)}`, { cause: error });
  } finally {
    clearInterval(timer);
  }
  log.info({ seconds: seconds(), pid: postgresPid(paths) }, 'PostgreSQL is ready');
}

export interface PostgresStartOptions {
  readonly paths: StackPaths;
  readonly log: Logger;
  /** Install the event trigger that gives FerretDB's tables a GIN index on `_jsonb->'_id'` (the default). */
  readonly idIndex?: boolean;
}

/**
 * Starts (or finds running) the local PostgreSQL, creating its cluster and the `ferretdb`
 * database with the `_id` index trigger first when they are missing. Returns FerretDB's URL.
 */
export async function startPostgres(options: PostgresStartOptions): Promise<{ url: string; started: boolean }> {
  const { paths, log, idIndex = true } = options;
  const bin = await ensurePostgresInstalled(log);
  const user = serverUser();
  const socket = socketPath(paths.postgresSocketDir);
  if (Buffer.byteLength(socket) > 107) {
    throw new StackError(`The PostgreSQL socket path ${socket} is longer than 107 bytes: set LOCAL_STATE_DIR to a shorter folder, then run the command again.`);
  }
  const url = postgresUrl(paths.postgresSocketDir);

  let started = false;
  if (postgresPid(paths) === undefined) {
    mkdirSync(paths.postgresSocketDir, { recursive: true });
    chown(paths.postgresDir, user);
    chown(paths.postgresSocketDir, user);
    if (existsSync(paths.postgresLog)) chown(paths.postgresLog, user);
    if (user.prefix.length > 0) makeTraversable(paths.postgresDir, log);
    await initCluster(bin, paths, user, log);
    const settings = join(paths.postgresData, 'devstack.conf');
    writeFileSync(settings, postgresSettings(paths.postgresSocketDir));
    chown(settings, user);
    await runPgCtlStart(bin, paths, user, log);
    started = true;
  }
  setUpDatabase(bin, paths, idIndex, log);
  return { url, started };
}

/** The `ferretdb` database and, unless told not to, the index trigger: once per cluster (a stamp in the data folder). */
function setUpDatabase(bin: string, paths: StackPaths, idIndex: boolean, log: Logger): void {
  const stamp = join(paths.postgresData, 'devstack-setup.sha256');
  const print = createHash('sha256').update(FERRETDB_DATABASE).update(idIndex ? ID_INDEX_SQL : '(no id index)').digest('hex');
  if (isUpToDate(stamp, print)) return;
  const exists = psql(bin, paths.postgresSocketDir, 'postgres', ['-tAc', `SELECT 1 FROM pg_database WHERE datname = '${FERRETDB_DATABASE}'`]).trim() === '1';
  if (!exists) {
    psql(bin, paths.postgresSocketDir, 'postgres', ['-c', `CREATE DATABASE ${FERRETDB_DATABASE}`]);
    log.info({ database: FERRETDB_DATABASE }, 'PostgreSQL database created');
  }
  if (idIndex) {
    psql(bin, paths.postgresSocketDir, FERRETDB_DATABASE, ['-f', '-'], ID_INDEX_SQL);
    log.info('PostgreSQL: event trigger installed (a GIN index on _jsonb->\'_id\' for every table FerretDB creates)');
  }
  markUpToDate(stamp, print);
}

/** Stops the local PostgreSQL (fast shutdown: clients are cut, data is safe), if it runs. */
export async function stopPostgres(paths: StackPaths, log: Logger, timeoutMs = 30_000): Promise<boolean> {
  const pid = postgresPid(paths);
  if (pid === undefined) return false;
  log.info({ pid }, 'stopping PostgreSQL');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    log.warn({ pid }, `PostgreSQL did not stop within ${timeoutMs / 1000}s; stopping it immediately (it recovers at the next start)`);
    process.kill(pid, 'SIGQUIT');
    const hard = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < hard) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  return true;
}
