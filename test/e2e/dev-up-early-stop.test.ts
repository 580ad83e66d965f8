/**
 * `./dev up` stopped while it is still starting (a process manager's SIGTERM, a test harness's
 * SIGINT: not a terminal's Ctrl-C, which would signal the children too) must stop what it
 * has launched by then instead of leaving it running as orphans.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildIfNeeded, childrenOf, freePort, isRunning, ROOT } from '../support/processes';
import { removeTestNamespace, uniqueMongoUrl, uniqueName, waitFor } from '../support/services';

const namespace = uniqueName('dev-up-early');
const mongoUrl = uniqueMongoUrl('dev-up-early');

afterAll(() => removeTestNamespace(namespace, mongoUrl));

describe('./dev up stopped during start-up', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('on %s exits 0 and leaves none of the processes it launched running', async (signal) => {
    await buildIfNeeded();
    const env = {
      ...process.env,
      KAFKA_BROKERS: inject('kafkaBrokers'),
      MONGO_URL: mongoUrl,
      KAFKA_NAMESPACE: namespace,
      PORT: String(await freePort()),
      NODE_ENV: 'development',
      JWT_SECRET: 'dev-up-early-secret-0123456789abcdef-0123456789',
      LOG_FORMAT: 'json',
    };
    const supervisor = spawn(process.execPath, ['dist/devstack/cli.js', 'up'], { cwd: ROOT, env, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      supervisor.once('exit', (code, sig) => done({ code, signal: sig })),
    );
    // The moment the first application process exists, well before the API answers.
    const launched = await waitFor(() => {
      const pids = childrenOf(supervisor.pid!);
      return pids.length > 0 && pids;
    }, 30_000, 'the first application process');
    supervisor.kill(signal);
    const result = await Promise.race([exited, new Promise((done) => setTimeout(() => done('timeout'), 30_000).unref())]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(launched.filter(isRunning)).toEqual([]);
  }, 60_000);
});
