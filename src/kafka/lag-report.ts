import type { Admin } from 'kafkajs';
import type { Config } from '../config';
import { AppError } from '../errors';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { physicalGroupId, physicalTopic } from '../events/topics';
import type { Logger } from '../logger';
import { readGroupLag, type PartitionEnds, type PartitionLag } from './consumer-lag';

/** One consumer group's lag: what it has not committed yet, in total and per partition. */
export interface GroupLag {
  /** The group's logical name (its module's), without the deployment's namespace. */
  readonly groupId: string;
  readonly totalLag: number;
  readonly partitions: readonly PartitionLag[];
}

export interface LagReport {
  readonly groups: readonly GroupLag[];
  /** When Kafka answered: a report is served again for up to maxAgeMs. */
  readonly readAt: Date;
}

/** Kafka did not answer the lag reading; the next one is tried after maxAgeMs. */
export class LagUnavailableError extends AppError {
  constructor(cause: unknown) {
    super('UNAVAILABLE', 'the consumer lag could not be read from Kafka; try again in a few seconds', { retriable: true, cause });
  }
}

export interface LagReaderOptions {
  /** Connected and closed by its owner (the API's admin client); only read here. */
  readonly admin: Admin;
  readonly config: Config;
  readonly log: Logger;
  /** How long one reading (or one failure) is served before Kafka is asked again. @default LAG_REPORT_MAX_AGE_MS */
  readonly maxAgeMs?: number;
  /** The groups and the topics each reads. @default CONSUMER_GROUP_TOPICS */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  readonly now?: () => number;
}

export interface ConsumerLagReader {
  /** The latest report, read from Kafka when the cached one is older than maxAgeMs; rejects with LagUnavailableError. */
  read(): Promise<LagReport>;
}

/** A dashboard polls every few seconds; a reading this old is still worth showing. */
export const LAG_REPORT_MAX_AGE_MS = 5_000;

/**
 * Every consumer group's lag as the API reports it (a browser cannot reach the consumers' own
 * /metrics): committed offsets against end offsets, through the Kafka admin API, like each
 * consumer's lag watch. The cost is bounded whatever the number of callers: at most one reading
 * per maxAgeMs per API instance, callers sharing the one in flight, and each reading asks one
 * OffsetFetch per group and each topic's end offsets once (7 topics, 5 groups). A failure is
 * remembered as long as a reading, so an unreachable Kafka is not asked on every request.
 */
export function consumerLagReader({ admin, config, log, maxAgeMs = LAG_REPORT_MAX_AGE_MS, groups = CONSUMER_GROUP_TOPICS, now = Date.now }: LagReaderOptions): ConsumerLagReader {
  let cached: { readonly at: number; readonly report: Promise<LagReport> } | undefined;
  let inFlight: Promise<LagReport> | undefined;

  async function readAll(): Promise<LagReport> {
    const ends = new Map<string, Promise<readonly PartitionEnds[]>>();
    const endsOf = (topic: string) => {
      let found = ends.get(topic);
      if (!found) ends.set(topic, (found = admin.fetchTopicOffsets(topic)));
      return found;
    };
    const report = await Promise.all(
      Object.entries(groups).map(async ([group, topics]) => {
        const physical = topics.map((logical) => ({ logical, physical: physicalTopic(config, logical) }));
        const partitions = await readGroupLag(admin, physicalGroupId(config, group), physical, endsOf);
        return { groupId: group, totalLag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
      }),
    );
    return { groups: report, readAt: new Date(now()) };
  }

  return {
    read() {
      if (inFlight) return inFlight;
      if (cached && now() - cached.at < maxAgeMs) return cached.report;
      const report = readAll().catch((error: unknown) => {
        log.warn({ err: error }, 'could not read the consumer groups\' lag');
        throw new LagUnavailableError(error);
      });
      inFlight = report;
      const settle = () => {
        cached = { at: now(), report };
        inFlight = undefined;
      };
      report.then(settle, settle);
      return report;
    },
  };
}
