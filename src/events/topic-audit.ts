import { ConfigResourceTypes, type Admin, type ITopicConfig } from 'kafkajs';

/** What a topic on the cluster actually has, of what durability and replay depend on. */
export interface TopicSettings {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly retentionMs: number;
  readonly maxMessageBytes: number;
}

const setting = (spec: ITopicConfig, name: string) => Number(spec.configEntries?.find((e) => e.name === name)?.value);

/**
 * PURE: where an existing topic falls short of what this deployment asks for (created earlier,
 * by hand or by another configuration; topic creation never touches an existing topic).
 * More replication than asked is fine; less, or a shorter retention, is not.
 */
export function topicShortfalls(spec: ITopicConfig, actual: TopicSettings): string[] {
  const problems: string[] = [];
  const wanted = {
    replicationFactor: spec.replicationFactor ?? 1,
    minInsyncReplicas: setting(spec, 'min.insync.replicas'),
    retentionMs: setting(spec, 'retention.ms'),
    maxMessageBytes: setting(spec, 'max.message.bytes'),
  };
  if (actual.replicationFactor < wanted.replicationFactor) {
    problems.push(`${spec.topic} has replication factor ${actual.replicationFactor}, below the ${wanted.replicationFactor} asked for (KAFKA_REPLICATION_FACTOR)`);
  }
  if (actual.minInsyncReplicas < wanted.minInsyncReplicas) {
    problems.push(`${spec.topic} has min.insync.replicas ${actual.minInsyncReplicas}, below the ${wanted.minInsyncReplicas} asked for (KAFKA_MIN_INSYNC_REPLICAS)`);
  }
  const keptShorter = wanted.retentionMs === -1 ? actual.retentionMs !== -1 : actual.retentionMs !== -1 && actual.retentionMs < wanted.retentionMs;
  if (keptShorter) {
    const forever = (ms: number) => (ms === -1 ? 'forever' : `${ms} ms`);
    problems.push(`${spec.topic} keeps events ${forever(actual.retentionMs)}, not ${forever(wanted.retentionMs)} (retention.ms): replay needs them`);
  }
  if (actual.maxMessageBytes < wanted.maxMessageBytes) {
    problems.push(`${spec.topic} takes messages up to ${actual.maxMessageBytes} bytes, below the ${wanted.maxMessageBytes} asked for (max.message.bytes): a set-aside copy of the largest event would not fit`);
  }
  return problems;
}

/** Reads every spec'd topic's settings from the cluster (one metadata request, one describeConfigs) and lists the shortfalls. */
export async function auditTopics(admin: Admin, specs: readonly ITopicConfig[]): Promise<string[]> {
  const topics = specs.map((s) => s.topic);
  const [metadata, configs] = await Promise.all([
    admin.fetchTopicMetadata({ topics }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas', 'retention.ms', 'max.message.bytes'] })),
    }),
  ]);
  return specs.flatMap((spec) => {
    const partitions = metadata.topics.find((t) => t.name === spec.topic)?.partitions ?? [];
    const entries = configs.resources.find((r) => r.resourceName === spec.topic)?.configEntries ?? [];
    const value = (name: string) => Number(entries.find((e) => e.configName === name)?.configValue);
    const actual = {
      replicationFactor: Math.min(...partitions.map((p) => p.replicas.length)),
      minInsyncReplicas: value('min.insync.replicas'),
      retentionMs: value('retention.ms'),
      maxMessageBytes: value('max.message.bytes'),
    };
    return topicShortfalls(spec, actual);
  });
}
