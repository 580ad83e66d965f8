/**
 * Drill 1: each consumer module in turn is killed with SIGKILL mid-stream (no stop, no commit
 * of what it was doing) and started again a moment later, while customers keep ordering. Its
 * uncommitted work is redone by the new process: the audit finds no order lost, none charged,
 * refunded or emailed twice.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDrill, report } from './support/audit';
import { runLoad } from './support/load';
import { consumerNames, startDrillWorld, type DrillWorld } from './support/world';

const DRILL = 'consumer-kill';
const ORDERS = 300;
let world: DrillWorld;

beforeAll(async () => {
  world = await startDrillWorld(DRILL);
});
afterAll(async () => {
  await world?.stop();
});

describe('drill 1: SIGKILL each consumer module in turn mid-stream', () => {
  it('loses nothing and repeats no effect; the audit passes', async () => {
    const names = consumerNames();
    const spacing = Math.floor(ORDERS / (names.length + 1));
    const kills: { process: string; killedAtOrder: number; downSeconds: number; rejoinSeconds: number }[] = [];
    let faults: Promise<void> = Promise.resolve();
    let lastRestart = 0;
    const killAndRestart = async (name: string, at: number) => {
      const t0 = performance.now();
      await world.kill(name, 'SIGKILL');
      await sleep(1500); // a backlog builds up meanwhile
      const t1 = performance.now();
      await world.start(name);
      lastRestart = performance.now();
      kills.push({ process: name, killedAtOrder: at, downSeconds: Math.round((t1 - t0) / 100) / 10, rejoinSeconds: Math.round((lastRestart - t1) / 100) / 10 });
    };
    const load = await runLoad({
      graphqlUrl: world.graphqlUrl,
      orders: ORDERS,
      onAcknowledged: (n) => {
        const i = n / spacing - 1;
        if (Number.isInteger(i) && i < names.length) faults = faults.then(() => killAndRestart(names[i]!, n));
      },
    });
    await faults;
    const result = await auditDrill(world, load);
    const problems = [...result.problems];
    if (kills.length !== names.length) problems.push(`killed ${kills.length} of ${names.length} consumer modules`);
    report(DRILL, { ...result.figures, kills, timeToRecoverSeconds: Math.round((result.settledAt - lastRestart) / 100) / 10 }, problems);
    expect(problems).toEqual([]);
  });
});
