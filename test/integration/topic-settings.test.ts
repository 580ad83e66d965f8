/**
 * Reliability finding 3: topics that already exist are held to the deployment's durability and
 * retention. An order topic made earlier with a one-second retention (by hand, or by another
 * configuration) makes a production start fail naming the topic and the setting; elsewhere it
 * is only a warning.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServedTopics, ensureTopics, physicalTopic, TopicSettingsError } from '../../src/events/topics';
import { testConfig, testKafka, testLogger, uniqueName } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('topics') });
const production = { ...config, kafka: { ...config.kafka, durabilityRequired: true } };
const log = testLogger('topic-settings-test');
let admin: Admin;

beforeAll(async () => {
  admin = testKafka().admin();
  await admin.connect();
  await createServedTopics(admin, [{ topic: physicalTopic(config, 'order.placed'), numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '1000' }] }]);
});

afterAll(async () => {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${config.kafka.namespace}.`));
  await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
});

describe('ensureTopics on topics that already exist', () => {
  it('refuses a production start on an order topic that would not keep its events, naming it', async () => {
    const failure = await ensureTopics(admin, production, log).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TopicSettingsError);
    expect((failure as TopicSettingsError).problems).toEqual([`${physicalTopic(config, 'order.placed')} keeps events 1000 ms, not forever (retention.ms): replay needs them`]);
  });

  it('only warns about it outside production, and creates the rest', async () => {
    await expect(ensureTopics(admin, config, log)).resolves.toEqual([]); // the first attempt created the missing ones
  });
});
