import type { Admin, ITopicConfig } from 'kafkajs';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { withRetry, type RetryOptions } from '../retry';
import { auditTopics } from './topic-audit';
import { analyticsEventSchemas } from './analytics-events';
import { orderEventSchemas } from './order-events';

/** Every topic of the product. The event `type` of a message equals the name of its topic. */
export const TOPICS = {
  orderPlaced: 'order.placed',
  orderConfirmed: 'order.confirmed',
  orderPaymentFailed: 'order.payment-failed',
  orderStatusChanged: 'order.status-changed',
  orderCancelled: 'order.cancelled',
  paymentRefunded: 'payment.refunded',
  notificationSent: 'notification.sent',
  analyticsUpdated: 'analytics.updated',
  orderTransitionRequested: 'order.transition-requested',
  orderTransitionDecided: 'order.transition-decided',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export const eventSchemas = { ...orderEventSchemas, ...analyticsEventSchemas } as const;

/** The suffixes of the topics a consumer sets messages aside in, by kind. */
const SET_ASIDE_SUFFIXES = { 'dead-letter': '.dlq', parked: '.parked' } as const;
export type SetAsideKind = keyof typeof SET_ASIDE_SUFFIXES;

/** Where a consumer puts a message it cannot handle, with the reason in its headers. */
export const deadLetterTopic = (topic: string): string => `${topic}${SET_ASIDE_SUFFIXES['dead-letter']}`;

/**
 * Where a consumer parks a message that may well be fine but kept failing (restarts at it in a
 * row, or retriable failures past their budget), with the reason in its headers: set aside so
 * the stream goes on, kept byte for byte to be redriven once the cause is fixed.
 */
export const parkingTopic = (topic: string): string => `${topic}${SET_ASIDE_SUFFIXES.parked}`;

/** The inverse of deadLetterTopic and parkingTopic: a set-aside topic's kind and source topic; null for any other topic. */
export function setAsideTopicOf(topic: string): { readonly kind: SetAsideKind; readonly source: string } | null {
  for (const kind of ['dead-letter', 'parked'] as const) {
    const suffix = SET_ASIDE_SUFFIXES[kind];
    if (topic.endsWith(suffix) && topic.length > suffix.length) return { kind, source: topic.slice(0, -suffix.length) };
  }
  return null;
}

/** The topic's name on the cluster: the logical name behind the deployment's KAFKA_NAMESPACE. */
export function physicalTopic(config: Config, topic: string): string {
  return config.kafka.namespace ? `${config.kafka.namespace}.${topic}` : topic;
}

/** The logical name of a topic read from the cluster (the inverse of physicalTopic). */
export function logicalTopic(config: Config, topic: string): string {
  const prefix = config.kafka.namespace ? `${config.kafka.namespace}.` : '';
  return prefix && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
}

/** A consumer group's id on the cluster, namespaced like topics. */
export function physicalGroupId(config: Config, groupId: string): string {
  return config.kafka.namespace ? `${config.kafka.namespace}.${groupId}` : groupId;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Order facts are kept forever (replay rebuilds any read model); snapshots and audit less so. */
const RETENTION_MS: Readonly<Record<TopicName, number>> = {
  'order.placed': -1,
  'order.confirmed': -1,
  'order.payment-failed': -1,
  'order.status-changed': -1,
  'order.cancelled': -1,
  'payment.refunded': -1,
  'notification.sent': -1,
  'analytics.updated': 7 * DAY_MS,
  // Requests are the authority's input: kept, so a replay decides the same way. Decisions
  // answer requesters waiting seconds: a week is plenty for audit.
  'order.transition-requested': -1,
  'order.transition-decided': 7 * DAY_MS,
};

/**
 * The largest message a product topic takes (Kafka's own default, stated so it is one fact
 * here). A dead-letter or parking copy is the same bytes plus a few reason headers, so those
 * topics take more: otherwise a message just under the limit could not be set aside and would
 * stop its consumer at every restart.
 */
export const MAX_MESSAGE_BYTES = 1_048_588;
export const SET_ASIDE_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES + 64 * 1024;

export function topicSpecs(config: Config): ITopicConfig[] {
  const base = (topic: string, retentionMs: number, maxMessageBytes: number): ITopicConfig => ({
    topic: physicalTopic(config, topic),
    numPartitions: config.kafka.topicPartitions,
    replicationFactor: config.kafka.replicationFactor,
    configEntries: [
      { name: 'retention.ms', value: String(retentionMs) },
      { name: 'min.insync.replicas', value: String(config.kafka.minInsyncReplicas) },
      { name: 'max.message.bytes', value: String(maxMessageBytes) },
    ],
  });
  return Object.values(TOPICS).flatMap((topic) => [
    base(topic, RETENTION_MS[topic], MAX_MESSAGE_BYTES),
    base(deadLetterTopic(topic), 30 * DAY_MS, SET_ASIDE_MAX_MESSAGE_BYTES),
    base(parkingTopic(topic), 30 * DAY_MS, SET_ASIDE_MAX_MESSAGE_BYTES),
  ]);
}

/** Existing topics fall short of what production asks for: the process must not start on them. */
export class TopicSettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Kafka topics fall short of this deployment's settings; fix them (kafka-configs.sh, or reassign partitions) before starting: ${problems.join('; ')}`);
    this.name = 'TopicSettingsError';
  }
}

const SERVED_RETRY: RetryOptions = { retries: 10, initialDelayMs: 200, maxDelayMs: 2000 };

/**
 * Creates whichever of `specs` are missing (existing topics are left as they are) and waits
 * until every partition of every one is served. Right after creation, by this process or
 * another, a broker can name leaders that do not serve yet and answer "does not host this
 * topic-partition" or "not the leader" for a moment (kafkajs's waitForLeaders retries only the
 * latter): both are waited out, so a first produce or subscribe does not fail on them.
 * Returns the names it created.
 */
export async function createServedTopics(admin: Admin, specs: readonly ITopicConfig[], retry: RetryOptions = SERVED_RETRY): Promise<string[]> {
  const created = await withRetry(async () => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length === 0) return [];
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: false });
    } catch (error) {
      // Another process may have created some of them in the meantime: that is the same outcome.
      if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
    }
    return missing.map((spec) => spec.topic);
  }, retry);
  await withRetry(async () => {
    for (const spec of specs) await admin.fetchTopicOffsets(spec.topic);
  }, retry);
  return created;
}

/**
 * Every topic of the product exists and every partition has a serving leader, and existing
 * topics meet this deployment's durability and retention. Safe to run from every process at
 * every start.
 */
export async function ensureTopics(admin: Admin, config: Config, log?: Logger): Promise<string[]> {
  const retry: RetryOptions = {
    ...SERVED_RETRY,
    onRetry: (error, attempt) => log?.info({ attempt, reason: (error as Error).message }, 'waiting for the topics to be served'),
  };
  const created = await createServedTopics(admin, topicSpecs(config), retry);
  // Creation leaves existing topics as they are: hold them to this deployment's settings too.
  const shortfalls = await withRetry(() => auditTopics(admin, topicSpecs(config)), retry);
  if (shortfalls.length > 0 && config.kafka.durabilityRequired) throw new TopicSettingsError(shortfalls);
  for (const problem of shortfalls) log?.warn({ problem }, 'a topic falls short of the configured durability or retention');
  return created;
}
