/**
 * Drill 1: each consumer module in turn is killed with SIGKILL mid-stream (no stop, no commit
 * of what it was doing) and started again a moment later, while customers keep ordering. Its
 * uncommitted work is redone by the new process: the audit finds no order lost, none charged,
 * refunded or emailed twice.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { auditAndReport, drillWorld, secondsBetween } from './support/drill';
import { runLoad } from './support/load';
import { consumerNames } from './support/world';

const DRILL = 'consumer-kill';
const ORDERS = 300;
const { world } = drillWorld(DRILL);

describe('drill 1: SIGKILL each consumer module in turn mid-stream', () => {
  it('loses nothing and repeats no effect; the audit passes', async () => {
    const w = world();
    const names = consumerNames();
    const spacing = Math.floor(ORDERS / (names.length + 1));
    const kills: { process: string; killedAtOrder: number; downSeconds: number; rejoinSeconds: number }[] = [];
    let faults: Promise<void> = Promise.resolve();
    let lastRestart = 0;
    const killAndRestart = async (name: string, at: number) => {
      const t0 = performance.now();
      await w.kill(name, 'SIGKILL');
      await sleep(1500); // a backlog builds up meanwhile
      const t1 = performance.now();
      await w.start(name);
      lastRestart = performance.now();
      kills.push({ process: name, killedAtOrder: at, downSeconds: secondsBetween(t0, t1), rejoinSeconds: secondsBetween(t1, lastRestart) });
    };
    const load = await runLoad({
      graphqlUrl: w.graphqlUrl,
      orders: ORDERS,
      onAcknowledged: (n) => {
        const i = n / spacing - 1;
        if (Number.isInteger(i) && i < names.length) faults = faults.then(() => killAndRestart(names[i]!, n));
      },
    });
    await faults;
    const problems = kills.length === names.length ? [] : [`killed ${kills.length} of ${names.length} consumer modules`];
    await auditAndReport(w, load, { problems, figures: { kills }, recoveredFrom: lastRestart });
  });
});
