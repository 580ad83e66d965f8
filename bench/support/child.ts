/**
 * One OS process a benchmark starts and stops: its output read line by line as it comes, its
 * last lines kept for a report, stopped with SIGTERM (SIGKILL after a grace period) by its own
 * pid only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when it ended. */
  readonly at: number;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** performance.now() just before it was spawned. */
  readonly startedAt: number;
  /** Set once it has ended. */
  readonly exit: ChildExit | undefined;
  readonly exited: Promise<ChildExit>;
  /** Its last output lines (stdout and stderr), oldest first. */
  tail(): string[];
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves when it has ended. */
  stop(graceMs: number): Promise<ChildExit>;
}

export interface ChildOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Called with every line it writes to stdout or stderr. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How many output lines tail() keeps. @default 40 */
  readonly keepLines?: number;
}

/** Children still running: killed if this process exits first (a test timeout, Ctrl-C), so none is left behind. */
const running = new Set<ChildProcess>();
let exitHook = false;

function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

export function startChild(name: string, command: string, args: readonly string[], options: ChildOptions): Child {
  const keep = options.keepLines ?? 40;
  const lines: string[] = [];
  const startedAt = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (error) => {
      lines.push(`[could not start: ${error.message}]`);
      exit ??= { code: null, signal: null, at: performance.now() };
      resolve(exit);
    });
    child.once('exit', (code, signal) => {
      exit ??= { code, signal, at: performance.now() };
      resolve(exit);
    });
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream], crlfDelay: Infinity }).on('line', (line) => {
      lines.push(line);
      if (lines.length > keep) lines.shift();
      options.onLine?.(line, stream);
    });
  }
  return {
    name,
    pid: child.pid ?? -1,
    startedAt,
    get exit() {
      return exit;
    },
    exited,
    tail: () => [...lines],
    async stop(graceMs) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exit) child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
