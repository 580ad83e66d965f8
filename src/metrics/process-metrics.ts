/**
 * The Prometheus series of one process (prom-client), served at `/metrics` (metrics-route.ts):
 * by the API on its port, by each consumer process on its probe listener (HEALTH_PORT).
 *
 * One registry per process, made on first use (nothing starts at import time), shared by the
 * parts that feed it: the GraphQL plugin, the event producer, the consumer runner, the lag
 * watcher, the WebSocket server and the MongoDB connection. Every label set is bounded: the
 * schema's root field names, error codes, logical topic names, module and group names, Kafka
 * partitions, MongoDB command names; never an order or customer id.
 *
 * On the hot path the parts hold label-bound children (`counter.labels(...)`, cached per
 * topic), so counting a round costs an addition, not a label lookup per message.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; from a cached read to a slow mutation under load. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; the driver measures commands in whole milliseconds (a 0 counts in the first bucket). */
const COMMAND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

function createProcessMetrics() {
  const registry = new Registry();
  // Process figures (CPU, memory, event-loop delay, GC), prefixed as prom-client names them.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    graphql: {
      operations: new Counter({
        name: 'graphql_operations_total',
        help: 'GraphQL operations over HTTP by root field (else "other"), type and outcome ("ok" or the first error code)',
        labelNames: ['operation', 'type', 'outcome'] as const,
        registers,
      }),
      duration: new Histogram({
        name: 'graphql_operation_duration_seconds',
        help: 'Time from receiving a GraphQL operation over HTTP to its answer',
        labelNames: ['operation', 'type', 'outcome'] as const,
        buckets: REQUEST_BUCKETS,
        registers,
      }),
      websockets: new Gauge({ name: 'graphql_websockets_active', help: 'Open WebSocket connections on /graphql', registers }),
      subscriptions: new Gauge({ name: 'graphql_subscriptions_active', help: 'Running GraphQL subscriptions over WebSockets', registers }),
    },
    kafka: {
      produceDuration: new Histogram({
        name: 'kafka_produce_duration_seconds',
        help: 'Time of one produce (acks=all) carrying one or more publish() calls, by outcome',
        labelNames: ['outcome'] as const,
        buckets: REQUEST_BUCKETS,
        registers,
      }),
      produceFailures: new Counter({ name: 'kafka_produce_failures_total', help: 'Produces Kafka did not acknowledge (the publish calls failed UNAVAILABLE)', registers }),
      producedEvents: new Counter({ name: 'kafka_produced_events_total', help: 'Events acknowledged by Kafka', registers }),
    },
    consumer: {
      consumed: consumerCounter(registers, 'consumer_events_consumed_total', 'Events a consumer module received (a redelivery counts again)'),
      processed: consumerCounter(registers, 'consumer_events_processed_total', 'Events a consumer module handled (written, produced, committed)'),
      retried: consumerCounter(registers, 'consumer_events_retried_total', 'Retries of events that failed retriably (one per event per retry)'),
      deadLettered: consumerCounter(registers, 'consumer_events_dead_lettered_total', 'Events copied to <topic>.dlq: they can never pass'),
      parked: consumerCounter(registers, 'consumer_events_parked_total', 'Events moved to <topic>.parked after their retry budget or restarts'),
      lag: new Gauge({
        name: 'kafka_consumer_lag',
        help: "Messages a consumer group has not committed yet: a partition's end offset less its committed offset",
        labelNames: ['group', 'topic', 'partition'] as const,
        registers,
      }),
      lagRefreshed: new Gauge({
        name: 'kafka_consumer_lag_refreshed_timestamp_seconds',
        help: 'When kafka_consumer_lag was last read from the cluster (stale when Kafka is out of reach)',
        labelNames: ['group'] as const,
        registers,
      }),
    },
    mongo: {
      duration: new Histogram({
        name: 'mongo_command_duration_seconds',
        help: 'Time of one MongoDB command as the driver measured it, by command name and outcome',
        labelNames: ['command', 'outcome'] as const,
        buckets: COMMAND_BUCKETS,
        registers,
      }),
    },
  };
}

function consumerCounter(registers: Registry[], name: string, help: string) {
  return new Counter({ name, help, labelNames: ['module', 'topic'] as const, registers });
}

export type ProcessMetrics = ReturnType<typeof createProcessMetrics>;

let metrics: ProcessMetrics | undefined;

/** This process's series, made on the first call. */
export function processMetrics(): ProcessMetrics {
  return (metrics ??= createProcessMetrics());
}

/** One consumer module's counters for one topic, bound to their labels. */
export interface TopicCounters {
  readonly consumed: { inc(n?: number): void };
  readonly processed: { inc(n?: number): void };
  readonly retried: { inc(n?: number): void };
  readonly deadLettered: { inc(n?: number): void };
  readonly parked: { inc(n?: number): void };
}

/** A module's counters per topic, bound once per topic and then reused for every round. */
export function consumerCounters(moduleName: string): (topic: string) => TopicCounters {
  const { consumer } = processMetrics();
  const byTopic = new Map<string, TopicCounters>();
  return (topic) => {
    let counters = byTopic.get(topic);
    if (!counters) {
      const labels = { module: moduleName, topic };
      counters = {
        consumed: consumer.consumed.labels(labels),
        processed: consumer.processed.labels(labels),
        retried: consumer.retried.labels(labels),
        deadLettered: consumer.deadLettered.labels(labels),
        parked: consumer.parked.labels(labels),
      };
      byTopic.set(topic, counters);
    }
    return counters;
  };
}
