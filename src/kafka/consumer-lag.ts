import type { Admin } from 'kafkajs';
import type { Logger } from '../logger';
import { processMetrics } from '../metrics/process-metrics';

/** One partition's offsets as the admin API gives them: `high` is the end offset, `low` the earliest kept. */
export interface PartitionEnds {
  readonly partition: number;
  readonly high: string;
  readonly low: string;
}

/** A group's committed offset of one partition; `-1` when it committed none there. */
export interface CommittedOffset {
  readonly partition: number;
  readonly offset: string;
}

/**
 * PURE: the lag of each partition of one topic: its end offset less the group's committed
 * offset (the next one it will read). A partition the group never committed on starts from the
 * beginning (consumers here read from the earliest offset), so all it still keeps counts.
 * Never negative, even if the two answers were taken a moment apart.
 */
export function partitionLags(ends: readonly PartitionEnds[], committed: readonly CommittedOffset[]): { partition: number; lag: number }[] {
  const committedAt = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
  return ends.map(({ partition, high, low }) => {
    const offset = committedAt.get(partition) ?? -1;
    const from = offset < 0 ? Number(low) : offset;
    return { partition, lag: Math.max(0, Number(high) - from) };
  });
}

/** One partition's lag, under the topic's logical name. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** A topic as the cluster names it (`physical`, namespaced) and as everyone else does (`logical`). */
export interface GroupTopic {
  readonly physical: string;
  readonly logical: string;
}

/**
 * Reads one group's lag now: one OffsetFetch for what the group committed on `topics`, then
 * each topic's end offsets from `endsOf` (a caller reading several groups passes one that asks
 * for each topic once). Every partition of every topic is listed, committed on or not.
 */
export async function readGroupLag(
  admin: Admin,
  groupId: string,
  topics: readonly GroupTopic[],
  endsOf: (physicalTopic: string) => Promise<readonly PartitionEnds[]> = (topic) => admin.fetchTopicOffsets(topic),
): Promise<PartitionLag[]> {
  const logicalOf = new Map(topics.map((t) => [t.physical, t.logical]));
  const committed = await admin.fetchOffsets({ groupId, topics: topics.map((t) => t.physical) });
  const lags: PartitionLag[] = [];
  for (const { topic, partitions } of committed) {
    const logical = logicalOf.get(topic) ?? topic;
    for (const { partition, lag } of partitionLags(await endsOf(topic), partitions)) lags.push({ topic: logical, partition, lag });
  }
  return lags;
}

export interface LagWatchOptions {
  /** Owned by the watch: connected at its first read, disconnected by stop(). */
  readonly admin: Admin;
  /** The group on the cluster (namespaced). */
  readonly groupId: string;
  /** The group's topics: the physical name to ask Kafka, the logical one for the label. */
  readonly topics: readonly GroupTopic[];
  readonly intervalMs: number;
  readonly log: Logger;
}

export interface LagWatch {
  /** Reads the lag once now (the interval does so too); resolves when the gauges are set. */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps `kafka_consumer_lag{group,topic,partition}` current for one consumer group by asking
 * the cluster on an interval: committed offsets against end offsets. It reads what the group
 * committed, not what the consumer last saw, so the figure keeps growing while the consumer is
 * stalled or stopped. A failed read keeps the last figures (their timestamp,
 * `kafka_consumer_lag_refreshed_timestamp_seconds`, shows how old they are) and is logged once
 * until a read succeeds again.
 */
export function watchConsumerLag({ admin, groupId, topics, intervalMs, log }: LagWatchOptions): LagWatch {
  const { lag, lagRefreshed } = processMetrics().consumer;
  let failing = false;
  let connected = false;
  let inFlight: Promise<void> | undefined;

  async function read(): Promise<void> {
    try {
      if (!connected) await admin.connect();
      connected = true;
      for (const { topic, partition, lag: behind } of await readGroupLag(admin, groupId, topics)) lag.labels(groupId, topic, String(partition)).set(behind);
      lagRefreshed.labels(groupId).set(Date.now() / 1000);
      if (failing) log.info({ groupId }, 'consumer lag readable again');
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ err: error, groupId }, 'could not read the consumer lag; /metrics keeps the last figures');
      failing = true;
    }
  }
  // One read at a time: a slow cluster does not pile reads up.
  const refresh = () => (inFlight ??= read().finally(() => (inFlight = undefined)));

  void refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  let stopped: Promise<void> | undefined;
  return {
    refresh,
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await inFlight;
        await admin.disconnect();
      })()),
  };
}
