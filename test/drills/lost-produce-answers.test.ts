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
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';
import { startProxiedKafka } from './support/own-services';

const DRILL = 'lost-produce-answers';
const ROUNDS = 5;
const LOST_PER_ROUND = 4;
const { world, servers } = drillWorld(DRILL, {
  servers: async () => ({ kafka: await startProxiedKafka(1, 1) }),
  options: ({ kafka }) => ({ kafkaBrokers: kafka.brokers.join(',') }),
});

describe('drill 6: produce answers lost after the append, under load', () => {
  it('loses no acknowledged order and repeats no effect; the audit passes', async () => {
    const { proxy } = servers().kafka;
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
