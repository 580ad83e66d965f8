/**
 * Drill 5: three Kafka brokers of the drill's own, topics with replication factor 3 and
 * min.insync.replicas 2 (as production requires). Mid-load one broker is killed with SIGKILL
 * and stays down: every acknowledged order must still be processed (zero lost), none twice.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDrill, report } from './support/audit';
import { runLoad } from './support/load';
import { startOwnKafka, type OwnKafka } from './support/own-services';
import { startDrillWorld, type DrillWorld } from './support/world';

const DRILL = 'broker-loss';
const VICTIM = 3;
let kafka: OwnKafka;
let world: DrillWorld;

beforeAll(async () => {
  kafka = await startOwnKafka(3);
  world = await startDrillWorld(DRILL, { kafkaBrokers: kafka.brokers.join(','), env: { KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' } });
});
afterAll(async () => {
  await world?.stop();
  await kafka?.remove();
});

describe('drill 5: three brokers, RF 3, min ISR 2; one broker is killed mid-load', () => {
  it('loses no acknowledged order; the audit passes', async () => {
    let killedAt = 0;
    let fault: Promise<void> | undefined;
    const load = await runLoad({
      graphqlUrl: world.graphqlUrl,
      orders: 250,
      onAcknowledged: (n) => {
        if (n === 80) fault = kafka.kill(VICTIM).then(() => void (killedAt = performance.now()));
      },
    });
    await fault;
    const result = await auditDrill(world, load);
    report(DRILL, { ...result.figures, brokersLeft: 2, timeToRecoverSeconds: Math.round((result.settledAt - killedAt) / 100) / 10 }, result.problems);
    expect(result.problems).toEqual([]);
  });
});
