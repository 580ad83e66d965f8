/**
 * Drill 6: lost produce answers under load (finding 1). A broker of the drill's own stands
 * behind a loopback proxy (test/support/kafka-proxy.ts) that every process reaches it through;
 * mid-load the proxy loses batches of produce answers after the broker appended the records
 * (and drops those connections), for the API's placeOrder and the consumers' events alike.
 * A producer that reused its rolled-back sequence would have its next record acknowledged
 * and never written: the audit must find every acknowledged order processed, once.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaProxy, type KafkaProxy } from '../support/kafka-proxy';
import { auditDrill, report } from './support/audit';
import { runLoad } from './support/load';
import { freePortRun, startOwnKafka, type OwnKafka } from './support/own-services';
import { startDrillWorld, type DrillWorld } from './support/world';

const DRILL = 'lost-produce-answers';
const ROUNDS = 5;
const LOST_PER_ROUND = 4;
let proxy: KafkaProxy;
let kafka: OwnKafka;
let world: DrillWorld;

beforeAll(async () => {
  const base = await freePortRun(3);
  proxy = await startKafkaProxy({ listenPort: base + 2, brokerPort: base });
  kafka = await startOwnKafka(1, { basePort: base, advertisedPorts: [base + 2] });
  world = await startDrillWorld(DRILL, { kafkaBrokers: kafka.brokers.join(',') });
});
afterAll(async () => {
  await world?.stop();
  await kafka?.remove();
  await proxy?.close();
});

describe('drill 6: produce answers lost after the append, under load', () => {
  it('loses no acknowledged order and repeats no effect; the audit passes', async () => {
    let lastFault = 0;
    let fault: Promise<void> | undefined;
    const load = await runLoad({
      graphqlUrl: world.graphqlUrl,
      orders: 250,
      onAcknowledged: (n) => {
        if (n !== 50) return;
        fault = (async () => {
          for (let round = 0; round < ROUNDS; round++) {
            proxy.loseProduceAnswers(LOST_PER_ROUND);
            await sleep(2000);
          }
          proxy.loseProduceAnswers(0);
          lastFault = performance.now();
        })();
      },
    });
    await fault;
    const result = await auditDrill(world, load);
    const problems = [...result.problems];
    if (proxy.lost === 0) problems.push('the proxy lost no produce answer: the fault never happened');
    report(DRILL, { ...result.figures, produceAnswersLost: proxy.lost, timeToRecoverSeconds: Math.round((result.settledAt - lastFault) / 100) / 10 }, problems);
    expect(problems).toEqual([]);
  });
});
