import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { consumerLagReader, LagUnavailableError } from './lag-report';

const config = loadConfig({ NODE_ENV: 'test', KAFKA_NAMESPACE: 'ns' });
const log = createLogger('lag-report-test', { level: 'silent' });

/** An admin answering from tables (two partitions per topic), counting what it was asked. */
function fakeAdmin(committed: Record<string, Record<string, number[]>>, high = [10, 4]) {
  const asked = { offsets: 0, ends: [] as string[] };
  let failing = false;
  const admin = {
    async fetchOffsets({ groupId, topics }: { groupId: string; topics: string[] }) {
      asked.offsets += 1;
      if (failing) throw new Error('broker unreachable');
      return topics.map((topic) => ({ topic, partitions: (committed[groupId]?.[topic] ?? [-1, -1]).map((offset, partition) => ({ partition, offset: String(offset) })) }));
    },
    async fetchTopicOffsets(topic: string) {
      asked.ends.push(topic);
      return high.map((h, partition) => ({ partition, high: String(h), low: '0', offset: String(h) }));
    },
  };
  return { admin: admin as unknown as Admin, asked, fail: (yes: boolean) => (failing = yes) };
}

describe('consumerLagReader', () => {
  it('reports each group\'s lag per partition under logical names, and its total', async () => {
    const { admin } = fakeAdmin({ 'ns.shipping': { 'ns.order.placed': [7, 4] } });
    const report = await consumerLagReader({ admin, config, log, groups: { shipping: ['order.placed'] } }).read();
    expect(report.groups).toEqual([
      { groupId: 'shipping', totalLag: 3, partitions: [{ topic: 'order.placed', partition: 0, lag: 3 }, { topic: 'order.placed', partition: 1, lag: 0 }] },
    ]);
  });

  it('asks Kafka at most once per maxAgeMs however many callers, and each topic\'s ends once per reading', async () => {
    const { admin, asked } = fakeAdmin({});
    let clock = 0;
    const reader = consumerLagReader({ admin, config, log, maxAgeMs: 5000, now: () => clock, groups: { a: ['order.placed'], b: ['order.placed', 'order.confirmed'] } });
    await Promise.all([reader.read(), reader.read(), reader.read()]);
    clock = 4999;
    await reader.read();
    expect(asked).toEqual({ offsets: 2, ends: ['ns.order.placed', 'ns.order.confirmed'] });
    clock = 5000;
    await reader.read();
    expect(asked.offsets).toBe(4);
  });

  it('answers UNAVAILABLE when Kafka does not, and remembers that for maxAgeMs', async () => {
    const { admin, asked, fail } = fakeAdmin({});
    let clock = 0;
    const reader = consumerLagReader({ admin, config, log, now: () => clock, groups: { a: ['order.placed'] } });
    fail(true);
    await expect(reader.read()).rejects.toBeInstanceOf(LagUnavailableError);
    await expect(reader.read()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(asked.offsets).toBe(1);
    fail(false);
    clock = 10_000;
    await expect(reader.read()).resolves.toMatchObject({ groups: [{ groupId: 'a', totalLag: 14 }] });
  });
});
