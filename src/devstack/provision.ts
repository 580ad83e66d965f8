import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from '../logger';
import { StackError } from './stack.errors';

/** Fingerprint of the files an artifact is built from: rebuild only when they change. */
export function fingerprint(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(existsSync(file) ? readFileSync(file) : file);
  return hash.digest('hex');
}

export function isUpToDate(stampFile: string, print: string): boolean {
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === print;
}

export function markUpToDate(stampFile: string, print: string): void {
  writeFileSync(stampFile, `${print}\n`);
}

/**
 * Runs a provisioning command (Maven, the Go toolchain), logging how many `progressLine`s it
 * has printed every few seconds so a first, slow run shows it is alive. A failure becomes a
 * StackError carrying the command's last lines.
 */
export async function runProvisioning(spec: {
  what: string;
  command: string;
  args: readonly string[];
  cwd: string;
  log: Logger;
  progressLine: RegExp;
  progressNoun: string;
  env?: NodeJS.ProcessEnv;
}): Promise<void> {
  const { what, log } = spec;
  const startedAt = Date.now();
  log.info(`${what}…`);
  const recent: string[] = [];
  let progress = 0;
  const timer = setInterval(() => {
    log.info({ seconds: Math.round((Date.now() - startedAt) / 1000), [spec.progressNoun]: progress }, `${what}: still working`);
  }, 5000);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env });
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          if (spec.progressLine.test(line)) progress++;
          recent.push(line);
          if (recent.length > 20) recent.shift();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);
      child.on('close', (status) => resolve(status ?? 1));
    });
    if (code !== 0) {
      throw new StackError(`${what} failed (exit ${code}); its last lines:\n${recent.join('\n')}`);
    }
    log.info({ seconds: ((Date.now() - startedAt) / 1000).toFixed(1), [spec.progressNoun]: progress }, `${what}: done`);
  } finally {
    clearInterval(timer);
  }
}
