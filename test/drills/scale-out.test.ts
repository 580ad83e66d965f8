/**
 * Scale-out drill (issue 11): the product scaled out on three brokers of its own (replication
 * factor 3, min.insync.replicas 2), two instances of every consumer module and two API
 * instances. Customers spread over both APIs (customer c on API c mod 2) and each listens on
 * both (orderConfirmed and orderStatusChanged, subscribed before the first order). Mid-load one
 * instance of every consumer module is killed with SIGKILL and not started again: its partner
 * takes its partitions once the group notices (the session timeout) and redoes what it had not
 * committed. The audit passes as in the fault drills, and every subscriber of both APIs
 * received every event of its orders.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { describe, it } from 'vitest';
import { physicalGroupId } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { uniqueName } from '../support/services';
import { auditAndReport, drillWorld, loadWithFault, secondsBetween } from './support/drill';
import { startOwnKafka } from './support/own-services';
import { subscribeEveryCustomer } from './support/subscribers';
import { consumerNames } from './support/world';

const DRILL = 'scale-out';
const ORDERS = 200;
const CUSTOMERS = 8;
/** The instances killed once this many orders are acknowledged. */
const KILL_AT = 60;
const INSTANCES = 2;
const fileLoaded = performance.now();
const { world, servers } = drillWorld(DRILL, {
  servers: async () => ({ kafka: await startOwnKafka(3) }),
  options: ({ kafka }) => ({
    kafkaBrokers: kafka.brokers.join(','),
    env: { KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' },
    instances: Object.fromEntries(['api', ...consumerNames()].map((name) => [name, INSTANCES])),
  }),
});

/** Members of a module's group, and the partitions each is assigned now. */
async function membersOf(admin: Admin, groupId: string): Promise<{ state: string; partitions: number[] }> {
  const [group] = (await admin.describeGroups([groupId])).groups;
  const partitions = (group?.members ?? []).map((m) => Object.values(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}).reduce((s, p) => s + p.length, 0));
  return { state: group?.state ?? 'unknown', partitions };
}

describe('scale-out: two instances of every process on three brokers; one of each consumer module is SIGKILLed mid-load', () => {
  it('the survivors take over: nothing lost, nothing twice, every subscriber of both APIs got its events', async () => {
    const w = world();
    const kafka = createKafka(w.config, 'drill-scale-out', createLogger('drill', { level: 'silent' }));
    const admin = kafka.admin();
    await admin.connect();
    const problems: string[] = [];
    const figures: Record<string, unknown> = { brokers: servers().kafka.brokers.length, instancesPerProcess: INSTANCES, worldStartSeconds: secondsBetween(fileLoaded, performance.now()) };
    try {
      // Both instances of every module hold partitions before the fault: the work is shared.
      const before: Record<string, number[]> = {};
      for (const name of consumerNames()) {
        const groupId = physicalGroupId(w.config, name);
        let seen = await membersOf(admin, groupId);
        for (let tries = 0; tries < 150 && !(seen.state === 'Stable' && seen.partitions.length === INSTANCES && seen.partitions.every((p) => p > 0)); tries++) {
          await sleep(200);
          seen = await membersOf(admin, groupId);
        }
        before[name] = seen.partitions;
        if (seen.partitions.length !== INSTANCES || seen.partitions.some((p) => p === 0)) problems.push(`before the fault, ${name}'s group is ${seen.state} with partitions per member ${JSON.stringify(seen.partitions)}: not shared by ${INSTANCES}`);
      }
      figures.partitionsPerMemberBefore = before;

      const run = uniqueName('load');
      const subscribers = await subscribeEveryCustomer(w, run, CUSTOMERS);
      try {
        const apis = w.processes.get('api')!.map((p) => `${p.apiBase!}/graphql`);
        const { load, fault } = await loadWithFault(w, {
          orders: ORDERS,
          customers: CUSTOMERS,
          run,
          graphqlUrls: apis,
          at: KILL_AT,
          fault: async () => {
            const killedAt = performance.now();
            await Promise.all(consumerNames().map((name) => w.kill(name, 'SIGKILL', 0)));
            // Each survivor holds all of its group's partitions once the group has noticed.
            const takeover: Record<string, number | null> = {};
            await Promise.all(
              consumerNames().map(async (name) => {
                const groupId = physicalGroupId(w.config, name);
                for (const deadline = performance.now() + 120_000; performance.now() < deadline; ) {
                  const seen = await membersOf(admin, groupId).catch(() => undefined);
                  if (seen?.state === 'Stable' && seen.partitions.length === 1 && seen.partitions[0] === before[name]!.reduce((s, p) => s + p, 0)) {
                    takeover[name] = secondsBetween(killedAt, performance.now());
                    return;
                  }
                  await sleep(250);
                }
                takeover[name] = null;
              }),
            );
            return { killedAt, takeover };
          },
        });
        figures.killedAtOrder = KILL_AT;
        figures.takeoverSeconds = fault.takeover;
        for (const [name, seconds] of Object.entries(fault.takeover)) if (seconds === null) problems.push(`${name}'s survivor did not take over all its group's partitions within 120 s`);
        const acknowledgedPerApi = Object.fromEntries(apis.map((url, i) => [i === 0 ? 'api' : `api-${i + 1}`, load.orders.filter((o) => o.id && o.graphqlUrl === url).length]));
        figures.acknowledgedPerApi = acknowledgedPerApi;
        for (const [api, count] of Object.entries(acknowledgedPerApi)) if (count === 0) problems.push(`${api} acknowledged no order: the load was not spread`);

        await auditAndReport(w, load, {
          problems,
          figures,
          recoveredFrom: fault.killedAt,
          afterAudit: async () => {
            const result = await subscribers.check(kafka, w);
            Object.assign(figures, result.figures, { wallSeconds: secondsBetween(fileLoaded, performance.now()) });
            return result.problems;
          },
        });
      } finally {
        subscribers.close();
      }
    } finally {
      await admin.disconnect();
    }
  });
});
