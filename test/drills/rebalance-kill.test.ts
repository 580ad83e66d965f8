/**
 * Drill 2: two instances of the transactions module (the one with side effects: charges and
 * refunds) share its group. Mid-load a third instance starts, and while the group is
 * rebalancing (its state PreparingRebalance or CompletingRebalance) one of the first two is
 * killed with SIGKILL: partitions move twice with work in flight. The audit finds no order
 * charged or refunded twice and none lost.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { physicalGroupId } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';

const DRILL = 'rebalance-kill';
const MODULE = 'transactions';
const { world } = drillWorld(DRILL, { options: () => ({ instances: { [MODULE]: 2 } }) });

describe('drill 2: two instances of a consumer module; one is SIGKILLed during a rebalance', () => {
  it('loses nothing and charges nothing twice; the audit passes', async () => {
    const w = world();
    const admin = createKafka(w.config, 'drill-rebalance', createLogger('drill', { level: 'silent' })).admin();
    await admin.connect();
    const groupId = physicalGroupId(w.config, MODULE);
    const { load, fault } = await loadWithFault(w, {
      orders: 250,
      at: 80,
      fault: async () => {
        const third = w.start(MODULE);
        const t0 = performance.now();
        let state = '';
        while (performance.now() - t0 < 30_000) {
          state = (await admin.describeGroups([groupId])).groups[0]?.state ?? '';
          if (state === 'PreparingRebalance' || state === 'CompletingRebalance') break;
          await sleep(20);
        }
        await w.kill(MODULE, 'SIGKILL', 0);
        const killedAt = performance.now();
        await third;
        return { stateWhenKilled: state, waitedMs: Math.round(killedAt - t0), killedAt };
      },
    }).finally(() => admin.disconnect());
    const problems = fault.stateWhenKilled === 'PreparingRebalance' || fault.stateWhenKilled === 'CompletingRebalance' ? [] : [`the instance was killed with the group ${fault.stateWhenKilled}, not rebalancing`];
    await auditAndReport(w, load, { problems, figures: { groupStateWhenKilled: fault.stateWhenKilled, killedAfterMs: fault.waitedMs }, recoveredFrom: fault.killedAt });
  });
});
