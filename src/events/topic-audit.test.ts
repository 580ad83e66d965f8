import { describe, expect, it } from 'vitest';
import { topicShortfalls } from './topic-audit';

const spec = (retention: string) => ({
  topic: 'order.placed',
  numPartitions: 6,
  replicationFactor: 3,
  configEntries: [
    { name: 'retention.ms', value: retention },
    { name: 'min.insync.replicas', value: '2' },
    { name: 'max.message.bytes', value: '1114124' },
  ],
});

describe('topicShortfalls', () => {
  it('accepts a topic that has what was asked for, or more', () => {
    expect(topicShortfalls(spec('-1'), { replicationFactor: 3, minInsyncReplicas: 2, retentionMs: -1, maxMessageBytes: 1114124 })).toEqual([]);
    expect(topicShortfalls(spec('604800000'), { replicationFactor: 5, minInsyncReplicas: 3, retentionMs: -1, maxMessageBytes: 2000000 })).toEqual([]);
  });

  it('names each shortfall with the setting that asks for more', () => {
    expect(topicShortfalls(spec('-1'), { replicationFactor: 1, minInsyncReplicas: 1, retentionMs: 86_400_000, maxMessageBytes: 1048588 })).toEqual([
      'order.placed has replication factor 1, below the 3 asked for (KAFKA_REPLICATION_FACTOR)',
      'order.placed has min.insync.replicas 1, below the 2 asked for (KAFKA_MIN_INSYNC_REPLICAS)',
      'order.placed keeps events 86400000 ms, not forever (retention.ms): replay needs them',
      'order.placed takes messages up to 1048588 bytes, below the 1114124 asked for (max.message.bytes): a set-aside copy of the largest event would not fit',
    ]);
    expect(topicShortfalls(spec('604800000'), { replicationFactor: 3, minInsyncReplicas: 2, retentionMs: 1000, maxMessageBytes: 1114124 })).toHaveLength(1);
  });
});
