import { KafkaPubSub } from 'graphql-kafkajs-subscriptions';
import { Partitioners, type Admin, type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { PubSub } from 'type-graphql';
import type { Config } from '../config';
import { AppError } from '../errors';
import { parseEvent, type EventOf } from '../events/parse-event';
import { eventSchemas, physicalGroupId, physicalTopic, TOPICS } from '../events/topics';
import type { Logger } from '../logger';
import { watchConsumer, type ConsumerWatch } from '../kafka/consumer-watch';
import { backoffDelay, withRetry } from '../retry';
import { extractTraceContext, extractTraceLinks } from '../tracing/kafka-headers';
import { startDeliverySpan } from '../tracing/messaging-spans';
import { activeTracer } from '../tracing/tracing';
import { EventQueue, type EventStream } from './event-stream';
import { analyticsEventKeys, EVERY_EVENT, orderEventKeys, SubscriberIndex, type RoutingKey } from './subscriber-index';

/**
 * The topics GraphQL subscriptions stream from, and the order authority's decisions, which
 * cancelOrder and advanceOrder wait on (resolvers/transition-requests.ts).
 */
export const STREAMED_TOPICS = [TOPICS.orderConfirmed, TOPICS.orderStatusChanged, TOPICS.analyticsUpdated, TOPICS.orderTransitionDecided] as const;
export type StreamedTopic = (typeof STREAMED_TOPICS)[number];

/** Who may see an event of a streamed topic, as routing keys (see subscriber-index.ts). */
export function eventKeysOf<K extends StreamedTopic>(topic: K, event: EventOf<K>): RoutingKey[] {
  switch (topic) {
    case TOPICS.analyticsUpdated:
      return analyticsEventKeys((event as EventOf<typeof TOPICS.analyticsUpdated>).data.scope);
    default:
      return orderEventKeys((event as EventOf<typeof TOPICS.orderConfirmed | typeof TOPICS.orderStatusChanged | typeof TOPICS.orderTransitionDecided>).data);
  }
}

/**
 * type-graphql's PubSub over Kafka: values are parsed and validated events. One KafkaPubSub
 * (one consumer group) per topic and API instance. Each event goes only to the subscribers
 * registered under one of its routing keys (type-graphql passes a subscription's `topicId`
 * as its keys): no per-subscriber filter runs.
 */
export interface EventPubSub extends PubSub {
  /**
   * A stream of the topic's events under `keys` (who the subscriber is and what it asked for),
   * buffering from this call on (not from the first next()). Keys are required: a subscription
   * that names none is refused rather than sent everything.
   */
  subscribe<K extends StreamedTopic>(topic: K, keys: readonly RoutingKey[]): EventStream<EventOf<K>>;
  /** Sends a validated event through the library's producer (the API's own writes use the event producer). */
  publish(topic: string, event: unknown, key?: string): Promise<void>;
  /** A permanent listener to every event of the topic, e.g. for a cache; returns its removal. */
  listen<K extends StreamedTopic>(topic: K, listener: (event: EventOf<K>) => void): () => void;
  /** Resolves once every topic's consumer has joined its group and fetched from every broker: later events are seen. */
  ready(): Promise<void>;
  /**
   * Why live events may not be flowing now (a topic's consumer not joined yet, crashed,
   * stopped or stalled), or null: for readiness.
   */
  problem(): string | null;
  /** Ends open streams, disconnects, and deletes this instance's consumer groups. */
  dispose(): Promise<void>;
  readonly groupIds: readonly string[];
}

export interface EventPubSubOptions {
  readonly kafka: Kafka;
  /** Used to count brokers for ready() and to delete the groups on dispose. */
  readonly admin: Admin;
  readonly config: Config;
  readonly log: Logger;
  /**
   * Unique per process: each instance must receive every event, so each gets its own groups
   * (the library's own `<prefix>-<n>` names repeat in every process and would split events).
   */
  readonly instanceId: string;
  /**
   * Told of each event as it arrives, before it is delivered: `arrivedAtMs` is when its message
   * reached the API (performance.timeOrigin + performance.now()). For measurements (the fanout bench).
   */
  readonly onArrival?: (topic: StreamedTopic, event: unknown, arrivedAtMs: number) => void;
  /**
   * A topic's consumer that started no fetch for this long is taken for cut off from Kafka:
   * its open streams end with UNAVAILABLE (it fetches every 500 ms when idle). @default 15000
   */
  readonly stallAfterMs?: number;
}

/**
 * Ends a subscription whose live events were interrupted (the topic's consumer crashed,
 * stopped or lost Kafka): events may be missed from here on, so the client is told to
 * subscribe again (and catch up, see the README) rather than left waiting on a silent stream.
 */
export class LiveEventsInterruptedError extends AppError {
  constructor(topic: StreamedTopic, why: string) {
    super('UNAVAILABLE', `live ${topic} events are interrupted (${why}); subscribe again`, { retriable: true });
  }
}

/** How soon a topic's consumer that died for good is created again (attempt after attempt). */
const RECONNECT_BACKOFF = { initialDelayMs: 500, maxDelayMs: 30_000 };

/** How long after a consumer's STOP its CRASH may still come (kafkajs disconnects in between). */
const STOP_WITHOUT_CRASH_MS = 3000;

/** The library keeps its clients private and has no close(); pinned at 4.0.13, reach them to disconnect. */
function clientsOf(pubsub: KafkaPubSub): { consumer: Consumer; producer: Producer } {
  return pubsub as unknown as { consumer: Consumer; producer: Producer };
}

type Listener = (event: unknown) => void;

export async function connectEventPubSub(options: EventPubSubOptions): Promise<EventPubSub> {
  const { kafka, admin, config, log, instanceId, onArrival } = options;
  const stallAfterMs = options.stallAfterMs ?? 15_000;
  const brokerIds = (await admin.describeCluster()).brokers.map((b) => String(b.nodeId));
  const indexes = new Map<StreamedTopic, SubscriberIndex<Listener>>(STREAMED_TOPICS.map((t) => [t, new SubscriberIndex<Listener>()]));
  /** Open streams per topic, to end them when that topic's live events are interrupted. */
  const open = new Map<StreamedTopic, Set<EventQueue<unknown>>>(STREAMED_TOPICS.map((t) => [t, new Set()]));
  /** Each topic's current engine (replaced when its consumer dies for good) and its watch. */
  const engines = new Map<StreamedTopic, { engine: KafkaPubSub; watch: ConsumerWatch }>();
  /** Topics whose streams were ended for the current interruption; cleared when the consumer fetches again. */
  const interrupted = new Set<StreamedTopic>();
  const readiness: Promise<void>[] = [];
  let disposed: Promise<void> | undefined;
  const groupIds = STREAMED_TOPICS.map((topic) => physicalGroupId(config, `api-subscriptions.${topic}.${instanceId}`));

  const dispatch = (topic: StreamedTopic, message: KafkaMessage): void => {
    const arrivedAtMs = onArrival ? performance.timeOrigin + performance.now() : 0;
    let event: EventOf<StreamedTopic>;
    let keys: RoutingKey[];
    try {
      event = parseEvent(topic, message.value);
      keys = eventKeysOf(topic, event);
    } catch (error) {
      log.warn({ err: error, topic, offset: message.offset }, 'skipping an event subscriptions cannot parse');
      return;
    }
    onArrival?.(topic, event, arrivedAtMs);
    // Tracing on: one span per event however many subscribers get it, continuing the span its
    // headers name (an order's event: its order's trace; a snapshot: its own, linked to the
    // events it counts, from `trace-links`).
    const tracer = activeTracer();
    const span = tracer ? startDeliverySpan(tracer, topic, event.id, extractTraceContext(message.headers), extractTraceLinks(message.headers)) : null;
    const delivered = indexes.get(topic)?.deliver(keys, (listener) => {
      try {
        listener(event);
      } catch (error) {
        log.error({ err: error, topic }, 'a subscription listener failed');
      }
    });
    if (span) {
      span.setAttribute('subscriptions.delivered', delivered ?? 0);
      span.end();
    }
  };

  /** Ends the topic's open streams with a retryable UNAVAILABLE, once per interruption. */
  const interrupt = (topic: StreamedTopic, why: string): void => {
    if (disposed || interrupted.has(topic)) return;
    interrupted.add(topic);
    const streams = open.get(topic) as Set<EventQueue<unknown>>;
    log.warn({ topic, why, streams: streams.size }, `live ${topic} events interrupted; ending its subscriptions`);
    for (const queue of [...streams]) queue.fail(new LiveEventsInterruptedError(topic, why));
  };

  async function disconnectEngine(engine: KafkaPubSub): Promise<void> {
    await Promise.allSettled([clientsOf(engine).consumer.disconnect(), clientsOf(engine).producer.disconnect()]);
  }

  /**
   * Connects the topic's engine (a KafkaPubSub, one consumer group) and follows its consumer:
   * a crash or a stop ends the topic's streams; kafkajs restarts a consumer after most crashes
   * itself, and one it gives up on (or that stopped) is replaced here, with backoff.
   */
  async function connectTopic(topic: StreamedTopic, groupId: string, firstFetch?: () => void): Promise<void> {
    const engine = await KafkaPubSub.create({
      kafka,
      topic: physicalTopic(config, topic),
      producerConfig: { allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner },
      // A short idle fetch so ready() (first fetch after joining) comes quickly.
      consumerConfig: { groupId, maxWaitTimeInMs: 500, allowAutoTopicCreation: false },
    });
    if (disposed) return void (await disconnectEngine(engine));
    const { consumer } = clientsOf(engine);
    // create() has joined the group; offsets (latest, for a new group) are resolved by the
    // first fetch, so events produced after a fetch from every broker are delivered.
    const fetched = new Set<string>();
    // A fetch answered: live events flow again, so subscriptions are accepted again.
    consumer.on(consumer.events.FETCH, () => interrupted.delete(topic));
    const stopFetchWatch = consumer.on(consumer.events.FETCH, ({ payload }) => {
      fetched.add(String(payload.nodeId));
      if (firstFetch && brokerIds.every((id) => fetched.has(id))) {
        stopFetchWatch();
        firstFetch();
      }
    });
    // create() resolves once the consumer has joined: the watch starts after its GROUP_JOIN.
    const watch = watchConsumer(consumer, { stallAfterMs, joined: true });
    let replaced = false;
    const replace = (why: string) => {
      if (replaced || disposed) return;
      replaced = true;
      watch.close();
      void reconnect(topic, groupId, engine, why);
    };
    // kafkajs stops a consumer (STOP) before it reports a crash (CRASH, after disconnecting),
    // and restarts it after most crashes by itself: a STOP with no CRASH soon after is a
    // consumer that will not come back on its own, as is a CRASH that says it will not restart.
    let crashReported = false;
    consumer.on(consumer.events.STOP, () => {
      crashReported = false;
      interrupt(topic, 'its Kafka consumer stopped');
      setTimeout(() => crashReported || replace('stopped'), STOP_WITHOUT_CRASH_MS).unref();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      crashReported = true;
      log.error({ topic, err: payload.error, restart: payload.restart }, `the ${topic} subscription consumer crashed`);
      interrupt(topic, 'its Kafka consumer crashed');
      if (!payload.restart) replace('crashed beyond restarting');
    });
    engines.set(topic, { engine, watch });
    await engine.subscribe(physicalTopic(config, topic), (message) => dispatch(topic, message));
  }

  async function reconnect(topic: StreamedTopic, groupId: string, old: KafkaPubSub, why: string): Promise<void> {
    await disconnectEngine(old);
    for (let attempt = 1; !disposed; attempt++) {
      const delayMs = backoffDelay(attempt, RECONNECT_BACKOFF);
      log.warn({ topic, why, attempt, delayMs }, `reconnecting the ${topic} subscription consumer`);
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      if (disposed) return;
      try {
        await connectTopic(topic, groupId);
        log.info({ topic, attempt }, `the ${topic} subscription consumer is back`);
        return;
      } catch (error) {
        log.warn({ topic, err: error, attempt }, `the ${topic} subscription consumer could not reconnect yet`);
      }
    }
  }

  try {
    for (const [index, topic] of STREAMED_TOPICS.entries()) {
      let fetchedEverywhere: () => void = () => undefined;
      readiness.push(new Promise<void>((resolve) => (fetchedEverywhere = resolve)));
      await connectTopic(topic, groupIds[index] as string, () => fetchedEverywhere());
    }
  } catch (error) {
    await disconnectAll();
    throw error;
  }

  // A consumer cut off from Kafka keeps retrying quietly for a long time before kafkajs calls
  // it a crash: a stall (no fetch for stallAfterMs) ends its streams at once.
  const stallCheck = setInterval(() => {
    for (const [topic, { watch }] of engines) {
      const problem = watch.problem();
      if (problem?.startsWith('stalled')) interrupt(topic, 'its Kafka consumer cannot fetch');
    }
  }, Math.max(100, Math.min(1000, stallAfterMs / 4)));
  stallCheck.unref();

  async function disconnectAll(): Promise<void> {
    for (const { watch } of engines.values()) watch.close();
    await Promise.allSettled([...engines.values()].map(({ engine }) => disconnectEngine(engine)));
  }

  const addListener = (topic: StreamedTopic, keys: readonly RoutingKey[], listener: Listener): (() => void) => {
    const index = indexes.get(topic);
    if (!index) throw new Error(`${topic} is not a streamed topic`);
    return index.add(keys, listener);
  };

  return {
    groupIds,
    subscribe<K extends StreamedTopic>(topic: K, keys: readonly RoutingKey[]): EventStream<EventOf<K>> {
      if (!Array.isArray(keys)) throw new Error(`a subscription to ${topic} must name its routing keys`);
      // Refused while the topic's consumer is down: the client retries rather than wait on nothing.
      if (interrupted.has(topic)) throw new LiveEventsInterruptedError(topic, 'Kafka is not reachable');
      const streams = open.get(topic) as Set<EventQueue<unknown>>;
      const queue: EventQueue<EventOf<K>> = new EventQueue(() => {
        remove();
        streams.delete(queue as EventQueue<unknown>);
      });
      const remove = addListener(topic, keys, (event) => queue.push(event as EventOf<K>));
      streams.add(queue as EventQueue<unknown>);
      return queue;
    },
    listen(topic, listener) {
      return addListener(topic, [EVERY_EVENT], listener as Listener);
    },
    async publish(topic, event, key) {
      const engine = engines.get(topic as StreamedTopic)?.engine;
      if (!engine) throw new Error(`${topic} is not a streamed topic`);
      const valid = eventSchemas[topic as StreamedTopic].parse(event);
      await engine.publish(physicalTopic(config, topic), JSON.stringify(valid), { 'event-type': valid.type, 'event-id': valid.id }, { acks: -1 }, key);
    },
    ready: () => Promise.all(readiness).then(() => undefined),
    problem() {
      for (const [topic, { watch }] of engines) {
        const problem = watch.problem();
        if (problem) return `${topic} subscriptions: ${problem}`;
      }
      return null;
    },
    dispose() {
      disposed ??= (async () => {
        clearInterval(stallCheck);
        for (const streams of open.values()) for (const queue of [...streams]) await queue.return();
        await disconnectAll();
        // Left behind, each restart would add three empty groups to the cluster's listing.
        await withRetry(() => admin.deleteGroups(groupIds), { retries: 5, shouldRetry: () => true }).catch((error: unknown) =>
          log.warn({ err: error, groupIds }, 'could not delete the subscription consumer groups'),
        );
      })();
      return disposed;
    },
  };
}
