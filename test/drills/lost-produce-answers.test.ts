/**
 * Drill 6: lost produce answers under load (finding 1). A broker of the drill's own stands
 * behind a loopback proxy (test/support/kafka-proxy.ts) that every process reaches it through;
 * mid-load the proxy loses batches of produce answers after the broker appended the records
 * (and drops those connections), for the API's placeOrder and the consumers' events alike.
 * A producer that reused its rolled-back sequence would have its next record acknowledged
 * and never written: the audit must find every acknowledged order processed, once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { startKafkaProxy } from '../support/kafka-proxy';
import { freePortRun } from '../support/processes';
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';
import { startOwnKafka } from './support/own-services';

const DRILL = 'lost-produce-answers';
const ROUNDS = 5;
const LOST_PER_ROUND = 4;
const { world, servers } = drillWorld(DRILL, {
  servers: async () => {
    const base = await freePortRun(3);
    const proxy = await startKafkaProxy({ listenPort: base + 2, brokerPort: base });
    // Removed in reverse: the broker first, then its proxy.
    return { proxy: { remove: () => proxy.close(), proxy }, kafka: await startOwnKafka(1, { basePort: base, advertisedPorts: [base + 2] }) };
  },
  options: ({ kafka }) => ({ kafkaBrokers: kafka.brokers.join(',') }),
});

describe('drill 6: produce answers lost after the append, under load', () => {
  it('loses no acknowledged order and repeats no effect; the audit passes', async () => {
    const { proxy } = servers().proxy;
    const { load, faultEndedAt } = await loadWithFault(world(), {
      orders: 250,
      at: 50,
      fault: async () => {
        for (let round = 0; round < ROUNDS; round++) {
          proxy.loseProduceAnswers(LOST_PER_ROUND);
          await sleep(2000);
        }
        proxy.loseProduceAnswers(0);
      },
    });
    const problems = proxy.lost === 0 ? ['the proxy lost no produce answer: the fault never happened'] : [];
    await auditAndReport(world(), load, { problems, figures: { produceAnswersLost: proxy.lost }, recoveredFrom: faultEndedAt });
  });
});
