/**
 * Drill 2: two instances of the transactions module (the one with side effects: charges and
 * refunds) share its group. Mid-load a third instance starts, and while the group is
 * rebalancing (its state PreparingRebalance or CompletingRebalance) one of the first two is
 * killed with SIGKILL: partitions move twice with work in flight. The audit finds no order
 * charged or refunded twice and none lost.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { physicalGroupId } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { auditDrill, report } from './support/audit';
import { runLoad } from './support/load';
import { startDrillWorld, type DrillWorld } from './support/world';

const DRILL = 'rebalance-kill';
const MODULE = 'transactions';
let world: DrillWorld;

beforeAll(async () => {
  world = await startDrillWorld(DRILL, { instances: { [MODULE]: 2 } });
});
afterAll(async () => {
  await world?.stop();
});

describe('drill 2: two instances of a consumer module; one is SIGKILLed during a rebalance', () => {
  it('loses nothing and charges nothing twice; the audit passes', async () => {
    const admin = createKafka(world.config, 'drill-rebalance', createLogger('drill', { level: 'silent' })).admin();
    await admin.connect();
    const groupId = physicalGroupId(world.config, MODULE);
    let fault: Promise<{ stateWhenKilled: string; waitedMs: number; killedAt: number }> | undefined;
    const load = await runLoad({
      graphqlUrl: world.graphqlUrl,
      orders: 250,
      onAcknowledged: (n) => {
        if (n !== 80) return;
        fault = (async () => {
          const third = world.start(MODULE);
          const t0 = performance.now();
          let state = '';
          while (performance.now() - t0 < 30_000) {
            state = (await admin.describeGroups([groupId])).groups[0]?.state ?? '';
            if (state === 'PreparingRebalance' || state === 'CompletingRebalance') break;
            await sleep(20);
          }
          await world.kill(MODULE, 'SIGKILL', 0);
          const killedAt = performance.now();
          await third;
          return { stateWhenKilled: state, waitedMs: Math.round(killedAt - t0), killedAt };
        })();
      },
    });
    const what = await fault!;
    await admin.disconnect();
    const result = await auditDrill(world, load);
    const problems = [...result.problems];
    if (what.stateWhenKilled !== 'PreparingRebalance' && what.stateWhenKilled !== 'CompletingRebalance') problems.push(`the instance was killed with the group ${what.stateWhenKilled}, not rebalancing`);
    report(DRILL, { ...result.figures, groupStateWhenKilled: what.stateWhenKilled, killedAfterMs: what.waitedMs, timeToRecoverSeconds: Math.round((result.settledAt - what.killedAt) / 100) / 10 }, problems);
    expect(problems).toEqual([]);
  });
});
