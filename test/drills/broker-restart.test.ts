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
import { describe, it } from 'vitest';
import * as ops from '../generated/graphql';
import { gql, tokenFor } from '../support/api-harness';
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';
import { startOwnKafka } from './support/own-services';

const DRILL = 'broker-restart';
const PUBLISH_TIMEOUT_MS = 5000;
const DOWN_MS = 15_000;
const { world, servers } = drillWorld(DRILL, {
  servers: async () => ({ kafka: await startOwnKafka(1) }),
  options: ({ kafka }) => ({ kafkaBrokers: kafka.brokers.join(','), env: { PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS) } }),
});

/** /readyz's status (0 when nothing answers). */
async function readiness(base: string): Promise<number> {
  return (await fetch(`${base}/readyz`).catch(() => undefined))?.status ?? 0;
}

describe('drill 3: the Kafka broker restarts mid-load', () => {
  it('answers UNAVAILABLE within the cap and not ready while it is down, then recovers without an API restart', async () => {
    const w = world();
    const { kafka } = servers();
    const apiPid = w.processes.get('api')![0]!.child.pid;
    const customer = await tokenFor({ sub: 'drill-probe-customer', role: 'CUSTOMER', email: 'probe@example.com' });
    const { load, fault: during, faultEndedAt } = await loadWithFault(w, {
      orders: 250,
      at: 80,
      fault: async () => {
        const during: { placeOrderMs: number; code: unknown; readiness: number }[] = [];
        await kafka.kill(1);
        const until = performance.now() + DOWN_MS;
        await sleep(2000);
        let probe = 0;
        while (performance.now() < until - PUBLISH_TIMEOUT_MS - 1000) {
          const t0 = performance.now();
          const input = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 1 }], deliveryAddress: '1 Probe Lane', paymentToken: 'tok_visa', idempotencyKey: `drill-probe-${probe++}` };
          const answer = await gql(w.graphqlUrl, ops.PlaceOrderDocument, { input }, customer).catch(() => undefined);
          during.push({ placeOrderMs: Math.round(performance.now() - t0), code: answer?.errors?.[0]?.extensions?.code ?? (answer?.data ? 'PLACED' : 'NETWORK'), readiness: await readiness(w.apiBase) });
        }
        await sleep(Math.max(0, until - performance.now()));
        await kafka.start();
        return during;
      },
    });
    const problems: string[] = during.length === 0 ? ['no probe ran while the broker was down'] : [];
    for (const d of during) {
      if (d.code !== 'UNAVAILABLE') problems.push(`placeOrder while the broker was down answered ${String(d.code)}, not UNAVAILABLE`);
      if (d.placeOrderMs > PUBLISH_TIMEOUT_MS + 1500) problems.push(`placeOrder while the broker was down took ${d.placeOrderMs} ms (cap ${PUBLISH_TIMEOUT_MS} ms)`);
      if (d.readiness !== 503) problems.push(`readiness while the broker was down answered ${d.readiness}, not 503`);
    }
    await auditAndReport(w, load, {
      problems,
      figures: { brokerDownSeconds: DOWN_MS / 1000, probesWhileDown: during },
      recoveredFrom: faultEndedAt,
      afterAudit: async () => {
        const after: string[] = [];
        const readyAfter = await readiness(w.apiBase);
        if (readyAfter !== 200) after.push(`readiness after the restart answered ${readyAfter}`);
        if (w.processes.get('api')?.[0]?.child.pid !== apiPid) after.push('the API process was restarted');
        return after;
      },
    });
  });
});
