/**
 * Drill 4: the MongoDB-wire server goes away for 10 s mid-load. The drill runs its own FerretDB
 * (the shared one on 27017 serves other tests) and kills it with SIGKILL, then starts it again
 * on the same port. Consumers must pause and retry without committing past work that was not
 * persisted, and nothing may be dead-lettered or parked for a transient outage: the audit
 * allows no dead letter at all.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDrill, report } from './support/audit';
import { runLoad } from './support/load';
import { startOwnFerretDb, type OwnFerretDb } from './support/own-services';
import { startDrillWorld, type DrillWorld } from './support/world';

const DRILL = 'store-outage';
const OUTAGE_MS = 10_000;
let ferret: OwnFerretDb;
let world: DrillWorld;

beforeAll(async () => {
  ferret = await startOwnFerretDb();
  world = await startDrillWorld(DRILL, { mongoServer: ferret.url });
});
afterAll(async () => {
  await world?.stop();
  await ferret?.stop();
});

describe('drill 4: the MongoDB-wire server stops for 10 s mid-load', () => {
  it('consumers wait it out, nothing is dead-lettered, and the audit passes', async () => {
    let outage: Promise<void> | undefined;
    let restartedAt = 0;
    let downSeconds = 0;
    const load = await runLoad({
      graphqlUrl: world.graphqlUrl,
      orders: 250,
      onAcknowledged: (n) => {
        if (n !== 80) return;
        outage = (async () => {
          const t0 = performance.now();
          await ferret.kill();
          await sleep(OUTAGE_MS);
          await ferret.start();
          restartedAt = performance.now();
          downSeconds = Math.round((restartedAt - t0) / 100) / 10;
        })();
      },
    });
    await outage;
    const result = await auditDrill(world, load);
    report(DRILL, { ...result.figures, storeDownSeconds: downSeconds, timeToRecoverSeconds: Math.round((result.settledAt - restartedAt) / 100) / 10 }, result.problems);
    expect(result.problems).toEqual([]);
  });
});
