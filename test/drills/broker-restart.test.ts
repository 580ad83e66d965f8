/**
 * Drill 3: the Kafka broker goes down mid-load (SIGKILL; a broker of the drill's own, not the
 * shared one on 9092) and is started again 15 s later on its data. While it is down, a
 * placeOrder answers UNAVAILABLE within the publish cap (PUBLISH_TIMEOUT_MS, 5 s here) and
 * the API's /readyz says not ready; afterwards everything recovers without restarting the API
 * (the same process answers), and the audit passes. Customers retry under their idempotency
 * keys as the README says, so every order they were told about is placed once.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../generated/graphql';
import { gql, tokenFor } from '../support/api-harness';
import { auditDrill, report } from './support/audit';
import { runLoad } from './support/load';
import { startOwnKafka, type OwnKafka } from './support/own-services';
import { startDrillWorld, type DrillWorld } from './support/world';

const DRILL = 'broker-restart';
const PUBLISH_TIMEOUT_MS = 5000;
const DOWN_MS = 15_000;
let kafka: OwnKafka;
let world: DrillWorld;

beforeAll(async () => {
  kafka = await startOwnKafka(1);
  world = await startDrillWorld(DRILL, { kafkaBrokers: kafka.brokers.join(','), env: { PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS) } });
});
afterAll(async () => {
  await world?.stop();
  await kafka?.remove();
});

/** /readyz's status (the older /health where /readyz is not served yet). */
async function readiness(base: string): Promise<number> {
  const ready = await fetch(`${base}/readyz`).catch(() => undefined);
  if (ready && ready.status !== 404) return ready.status;
  return (await fetch(`${base}/health`).catch(() => undefined))?.status ?? 0;
}

describe('drill 3: the Kafka broker restarts mid-load', () => {
  it('answers UNAVAILABLE within the cap and not ready while it is down, then recovers without an API restart', async () => {
    const problems: string[] = [];
    const apiPid = world.processes.get('api')![0]!.child.pid;
    const customer = await tokenFor({ sub: 'drill-probe-customer', role: 'CUSTOMER', email: 'probe@example.com' });
    const during: { placeOrderMs: number; code: unknown; readiness: number }[] = [];
    let restartedAt = 0;
    let outage: Promise<void> | undefined;
    const load = await runLoad({
      graphqlUrl: world.graphqlUrl,
      orders: 250,
      onAcknowledged: (n) => {
        if (n !== 80) return;
        outage = (async () => {
          await kafka.kill(1);
          const until = performance.now() + DOWN_MS;
          await sleep(2000);
          let probe = 0;
          while (performance.now() < until - PUBLISH_TIMEOUT_MS - 1000) {
            const t0 = performance.now();
            const input = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 1 }], deliveryAddress: '1 Probe Lane', paymentToken: 'tok_visa', idempotencyKey: `drill-probe-${probe++}` };
            const answer = await gql(world.graphqlUrl, ops.PlaceOrderDocument, { input }, customer).catch(() => undefined);
            during.push({ placeOrderMs: Math.round(performance.now() - t0), code: answer?.errors?.[0]?.extensions?.code ?? (answer?.data ? 'PLACED' : 'NETWORK'), readiness: await readiness(world.apiBase) });
          }
          await sleep(Math.max(0, until - performance.now()));
          await kafka.start();
          restartedAt = performance.now();
        })();
      },
    });
    await outage;
    if (during.length === 0) problems.push('no probe ran while the broker was down');
    for (const d of during) {
      if (d.code !== 'UNAVAILABLE') problems.push(`placeOrder while the broker was down answered ${String(d.code)}, not UNAVAILABLE`);
      if (d.placeOrderMs > PUBLISH_TIMEOUT_MS + 1500) problems.push(`placeOrder while the broker was down took ${d.placeOrderMs} ms (cap ${PUBLISH_TIMEOUT_MS} ms)`);
      if (d.readiness !== 503) problems.push(`readiness while the broker was down answered ${d.readiness}, not 503`);
    }
    const result = await auditDrill(world, load);
    problems.push(...result.problems);
    const readyAfter = await readiness(world.apiBase);
    if (readyAfter !== 200) problems.push(`readiness after the restart answered ${readyAfter}`);
    if (world.processes.get('api')?.[0]?.child.pid !== apiPid) problems.push('the API process was restarted');
    report(DRILL, { ...result.figures, brokerDownSeconds: DOWN_MS / 1000, probesWhileDown: during, timeToRecoverSeconds: Math.round((result.settledAt - restartedAt) / 100) / 10 }, problems);
    expect(problems).toEqual([]);
  });
});
