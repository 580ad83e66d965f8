/** Helpers for tests that run the product as real OS processes (Linux /proc). */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { assertPortFree } from '../../src/devstack/processes';

export const ROOT = resolve(__dirname, '../..');

/** Newest modification time of the non-test .ts files under `dir`. */
function newestSource(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestSource(path));
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? Math.max(newest, statSync(path).mtimeMs) : newest;
  }, 0);
}

/** Compiles src/ to dist/ unless dist is newer than every source file (tsc is incremental anyway). */
export async function buildIfNeeded(): Promise<void> {
  const info = join(ROOT, 'dist/.tsbuildinfo');
  const cli = join(ROOT, 'dist/devstack/cli.js');
  if (existsSync(info) && existsSync(cli) && statSync(info).mtimeMs >= newestSource(join(ROOT, 'src'))) return;
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: 120_000 }).catch((error: { stdout?: string }) => {
    throw new Error(`the build failed:\n${error.stdout ?? String(error)}`);
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The kernel's range of client ports (Linux: ip_local_port_range), or Linux's default. */
export function clientPortRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): readonly [number, number] {
  try {
    const [low, high] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low <= high) return [low, high];
  } catch {
    // not Linux: its default
  }
  return [32_768, 60_999];
}

/**
 * `count` consecutive free ports (Kafka nodes take two each) below the kernel's client ports,
 * for servers a test stops and starts again on the same port. A port in the client range can
 * be taken, while its server is down, by a client socket the kernel numbers so, or a client
 * connecting to it can be connected to itself (TCP simultaneous open); and the range of
 * 31000-39000 used before sat mostly inside Linux's 32768-60999.
 */
export async function freePortRun(count: number, [low, high] = clientPortRange()): Promise<number> {
  // Below the client ports and above the privileged ones; above the client ports if they start low.
  const below = low - 1_024 >= 2_000;
  const top = below ? low - count : 65_536 - count;
  const bottom = below ? Math.max(1_024, top - 12_000) : high + 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = bottom + 2 * Math.floor(Math.random() * ((top - bottom) / 2));
    try {
      for (let p = base; p < base + count; p++) await assertPortFree(p, 'drill', 'another');
      return base;
    } catch {
      // taken: another try
    }
  }
  throw new Error(`no run of ${count} free ports found outside the client ports (${low}-${high})`);
}

/** Direct children of `pid`, from /proc (every thread's list). */
export function childrenOf(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  return readdirSync(tasks).flatMap((tid) => {
    try {
      return readFileSync(`${tasks}/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}
/**
 * After a failed test only: SIGKILLs a `./dev up` supervisor that is still running and the
 * processes it started (by pid), so a failure leaves nothing behind. A no-op once it exited.
 */
export function killSupervisorTree(supervisor: ChildProcess | undefined): void {
  if (!supervisor || supervisor.exitCode !== null || supervisor.signalCode !== null) return;
  for (const pid of childrenOf(supervisor.pid!)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  supervisor.kill('SIGKILL');
}

/** One line a `./dev up` supervisor or its children printed as JSON (pino). */
export interface LogLine {
  readonly pid: number;
  readonly name?: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/**
 * Collects what a spawned `./dev up` prints on stdout and stderr, as it comes: every line, and
 * the JSON log lines among them; `diagnostics()` is the tail, for a failure's message.
 */
export function collectOutput(child: ChildProcess): { readonly logs: LogLine[]; readonly output: string[]; readonly diagnostics: () => string } {
  const logs: LogLine[] = [];
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line (a child's stray output): kept in `output` for diagnostics
        }
      }
    });
  }
  return { logs, output, diagnostics: () => output.slice(-40).join('\n') };
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return []; // it ended meanwhile
  }
}
/** Alive and not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

