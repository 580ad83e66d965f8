/**
 * Drill 5: three Kafka brokers of the drill's own, topics with replication factor 3 and
 * min.insync.replicas 2 (as production requires). Mid-load one broker is killed with SIGKILL
 * and stays down: every acknowledged order must still be processed (zero lost), none twice.
 *
 * The broker killed is the coordinator of the order authority's group, the hub every order
 * passes: kafkajs kept committing into the dead coordinator (five minutes of redelivered rounds
 * once, when the victim happened to be one) until the runner made it rejoin and find the new one.
 */
import { describe, it } from 'vitest';
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';
import { physicalGroupId } from '../../src/events/topics';
import { groupCoordinatorNode, startOwnKafka } from './support/own-services';

const DRILL = 'broker-loss';
const { world, servers } = drillWorld(DRILL, {
  servers: async () => ({ kafka: await startOwnKafka(3) }),
  options: ({ kafka }) => ({ kafkaBrokers: kafka.brokers.join(','), env: { KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' } }),
});

describe('drill 5: three brokers, RF 3, min ISR 2; one broker is killed mid-load', () => {
  it('loses no acknowledged order; the audit passes', async () => {
    const w = world();
    const { kafka } = servers();
    const killCoordinator = async () => {
      const victim = await groupCoordinatorNode(kafka.brokers, physicalGroupId(w.config, 'order-authority'));
      await kafka.kill(victim);
      return victim;
    };
    const { load, fault: victim, faultEndedAt } = await loadWithFault(w, { orders: 250, at: 80, fault: killCoordinator });
    await auditAndReport(w, load, { figures: { brokersLeft: 2, killedCoordinatorOf: 'order-authority', victimNode: victim }, recoveredFrom: faultEndedAt });
  });
});
