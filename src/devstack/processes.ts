import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger';
import { StackError } from './stack.errors';

/** Resolves when nothing listens on 127.0.0.1:port; otherwise one sentence naming the port. */
export async function assertPortFree(port: number, what: string, howToMove: string): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!free) {
    throw new StackError(`Port ${port} (${what}) is already in use by another program: stop that program or ${howToMove}.`);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in `pidFile` if that process still runs. */
export function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * Starts a long-running server detached from this process (it outlives the command that
 * started it), its output appended to `logFile`, its pid written to `pidFile`.
 */
export function startDetached(spec: {
  command: string;
  args: readonly string[];
  cwd: string;
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
}): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const out = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new StackError(`Could not start ${spec.command}: see ${spec.logFile}.`);
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Asks the process in `pidFile` to stop (SIGTERM), waits, and kills it if it will not. */
export async function stopByPidFile(pidFile: string, what: string, log: Logger, timeoutMs = 30_000): Promise<boolean> {
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    return false;
  }
  log.info({ pid }, `stopping ${what}`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    log.warn({ pid }, `${what} did not stop within ${timeoutMs / 1000}s; killing it`);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile, { force: true });
  return true;
}

/** The last lines of a log file, to explain why a server died. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `check` until it resolves true, logging progress every few seconds. Fails fast with
 * the log's last lines when the process behind it has died, and after `timeoutMs` otherwise.
 */
export async function waitUntilReady(spec: {
  what: string;
  check: () => Promise<boolean>;
  log: Logger;
  pid?: number;
  logFile?: string;
  timeoutMs?: number;
  /** Gives up quietly (resolves) once aborted: the caller is stopping anyway. */
  signal?: AbortSignal;
}): Promise<void> {
  const { what, check, log, pid, logFile, timeoutMs = 120_000, signal } = spec;
  const startedAt = Date.now();
  let lastReport = startedAt;
  for (;;) {
    if (signal?.aborted) return;
    if (await check().catch(() => false)) {
      log.info({ seconds: ((Date.now() - startedAt) / 1000).toFixed(1) }, `${what} is ready`);
      return;
    }
    if (pid !== undefined && !isAlive(pid)) {
      throw new StackError(`${what} exited during start; its log (${logFile}) ends with:\n${logFile ? tail(logFile) : ''}`);
    }
    const waited = Date.now() - startedAt;
    if (waited > timeoutMs) {
      throw new StackError(`${what} was not ready after ${timeoutMs / 1000}s; see ${logFile ?? 'its log'}.`);
    }
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      log.info({ seconds: Math.round(waited / 1000) }, `waiting for ${what}`);
    }
    await sleep(250);
  }
}
