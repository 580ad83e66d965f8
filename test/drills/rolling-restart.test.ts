/**
 * Graceful shutdown and rolling restart (issue 7): under load, every process of the product
 * (the API included) is sent SIGTERM one at a time, and started again once it has exited, as
 * an orchestrator rolls a deployment. Each must exit by itself, with code 0, within
 * SHUTDOWN_TIMEOUT_MS (its rounds in flight finished and committed, the API's requests in
 * flight answered); customers retry a dropped placeOrder under its idempotency key as the
 * README says. The audit finds no order processed twice and none lost.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { applicationProcesses } from '../../src/devstack/supervise';
import { auditAndReport, drillWorld, loadWithFault, secondsBetween } from './support/drill';
import { terminate, type Stop } from './support/shutdown';

const DRILL = 'rolling-restart';
/** Shorter than the default (25 s) so that a process hanging on its way out shows within the drill. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** What starting a process and the kernel's reaping may add to its own bound. */
const SLACK_MS = 1500;
const { world } = drillWorld(DRILL, { options: () => ({ env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } }) });

describe('rolling restart: SIGTERM and restart every process in turn under load', () => {
  it('each process exits within SHUTDOWN_TIMEOUT_MS; nothing lost, nothing twice; the audit passes', async () => {
    const w = world();
    const { load, fault: stops, faultEndedAt } = await loadWithFault(w, {
      orders: 250,
      at: 40,
      fault: async () => {
        const stops: (Stop & { restartSeconds: number })[] = [];
        for (const { name } of applicationProcesses) {
          const stop = await terminate(w, name);
          const t0 = performance.now();
          await w.start(name);
          stops.push({ ...stop, restartSeconds: secondsBetween(t0, performance.now()) });
          await sleep(2000); // a little traffic through the new process before the next one goes
        }
        return stops;
      },
    });
    const problems: string[] = [];
    for (const s of stops) {
      if (s.exitMs > SHUTDOWN_TIMEOUT_MS + SLACK_MS) problems.push(`${s.process} took ${s.exitMs} ms to exit after SIGTERM (bound ${SHUTDOWN_TIMEOUT_MS} ms)`);
      if (s.code !== 0) problems.push(`${s.process} exited with code ${s.code} (signal ${s.signal}) after SIGTERM, not 0`);
    }
    await auditAndReport(w, load, { problems, figures: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS, stops }, recoveredFrom: faultEndedAt });
  });
});
