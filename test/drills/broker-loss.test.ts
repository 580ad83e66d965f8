/**
 * Drill 5: three Kafka brokers of the drill's own, topics with replication factor 3 and
 * min.insync.replicas 2 (as production requires). Mid-load one broker is killed with SIGKILL
 * and stays down: every acknowledged order must still be processed (zero lost), none twice.
 */
import { describe, it } from 'vitest';
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';
import { startOwnKafka } from './support/own-services';

const DRILL = 'broker-loss';
const VICTIM = 3;
const { world, servers } = drillWorld(DRILL, {
  servers: async () => ({ kafka: await startOwnKafka(3) }),
  options: ({ kafka }) => ({ kafkaBrokers: kafka.brokers.join(','), env: { KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' } }),
});

describe('drill 5: three brokers, RF 3, min ISR 2; one broker is killed mid-load', () => {
  it('loses no acknowledged order; the audit passes', async () => {
    const { load, faultEndedAt } = await loadWithFault(world(), { orders: 250, at: 80, fault: () => servers().kafka.kill(VICTIM) });
    await auditAndReport(world(), load, { figures: { brokersLeft: 2 }, recoveredFrom: faultEndedAt });
  });
});
