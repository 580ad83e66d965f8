import { KafkaPubSub } from 'graphql-kafkajs-subscriptions';
import { Partitioners, type Admin, type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { PubSub } from 'type-graphql';
import type { Config } from '../config';
import { parseEvent, type EventOf } from '../events/parse-event';
import { eventSchemas, physicalGroupId, physicalTopic, TOPICS } from '../events/topics';
import type { Logger } from '../logger';
import { withRetry } from '../retry';
import { EventQueue, type EventStream } from './event-stream';
import { analyticsEventKeys, EVERY_EVENT, orderEventKeys, SubscriberIndex, type RoutingKey } from './subscriber-index';

/** The topics GraphQL subscriptions stream from. */
export const STREAMED_TOPICS = [TOPICS.orderConfirmed, TOPICS.orderStatusChanged, TOPICS.analyticsUpdated] as const;
export type StreamedTopic = (typeof STREAMED_TOPICS)[number];

/** Who may see an event of a streamed topic, as routing keys (see subscriber-index.ts). */
export function eventKeysOf<K extends StreamedTopic>(topic: K, event: EventOf<K>): RoutingKey[] {
  switch (topic) {
    case TOPICS.analyticsUpdated:
      return analyticsEventKeys((event as EventOf<typeof TOPICS.analyticsUpdated>).data.scope);
    default:
      return orderEventKeys((event as EventOf<typeof TOPICS.orderConfirmed | typeof TOPICS.orderStatusChanged>).data);
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
}

/** The library keeps its clients private and has no close(); pinned at 4.0.13, reach them to disconnect. */
function clientsOf(pubsub: KafkaPubSub): { consumer: Consumer; producer: Producer } {
  return pubsub as unknown as { consumer: Consumer; producer: Producer };
}

type Listener = (event: unknown) => void;

export async function connectEventPubSub(options: EventPubSubOptions): Promise<EventPubSub> {
  const { kafka, admin, config, log, instanceId, onArrival } = options;
  const brokerIds = (await admin.describeCluster()).brokers.map((b) => String(b.nodeId));
  const indexes = new Map<StreamedTopic, SubscriberIndex<Listener>>(STREAMED_TOPICS.map((t) => [t, new SubscriberIndex<Listener>()]));
  const open = new Set<EventQueue<unknown>>();
  const engines = new Map<StreamedTopic, KafkaPubSub>();
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
    indexes.get(topic)?.deliver(keys, (listener) => {
      try {
        listener(event);
      } catch (error) {
        log.error({ err: error, topic }, 'a subscription listener failed');
      }
    });
  };

  try {
    for (const [index, topic] of STREAMED_TOPICS.entries()) {
      const engine = await KafkaPubSub.create({
        kafka,
        topic: physicalTopic(config, topic),
        producerConfig: { allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner },
        // A short idle fetch so ready() (first fetch after joining) comes quickly.
        consumerConfig: { groupId: groupIds[index] as string, maxWaitTimeInMs: 500, allowAutoTopicCreation: false },
      });
      engines.set(topic, engine);
      const { consumer } = clientsOf(engine);
      // create() has joined the group; offsets (latest, for a new group) are resolved by the
      // first fetch, so events produced after a fetch from every broker are delivered.
      readiness.push(
        new Promise<void>((resolve) => {
          const fetched = new Set<string>();
          const stop = consumer.on(consumer.events.FETCH, ({ payload }) => {
            fetched.add(String(payload.nodeId));
            if (brokerIds.every((id) => fetched.has(id))) {
              stop();
              resolve();
            }
          });
        }),
      );
      await engine.subscribe(physicalTopic(config, topic), (message) => dispatch(topic, message));
    }
  } catch (error) {
    await disconnectAll();
    throw error;
  }

  async function disconnectAll(): Promise<void> {
    await Promise.allSettled(
      [...engines.values()].flatMap((engine) => [clientsOf(engine).consumer.disconnect(), clientsOf(engine).producer.disconnect()]),
    );
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
      const queue: EventQueue<EventOf<K>> = new EventQueue(() => {
        remove();
        open.delete(queue as EventQueue<unknown>);
      });
      const remove = addListener(topic, keys, (event) => queue.push(event as EventOf<K>));
      open.add(queue as EventQueue<unknown>);
      return queue;
    },
    listen(topic, listener) {
      return addListener(topic, [EVERY_EVENT], listener as Listener);
    },
    async publish(topic, event, key) {
      const engine = engines.get(topic as StreamedTopic);
      if (!engine) throw new Error(`${topic} is not a streamed topic`);
      const valid = eventSchemas[topic as StreamedTopic].parse(event);
      await engine.publish(physicalTopic(config, topic), JSON.stringify(valid), { 'event-type': valid.type, 'event-id': valid.id }, { acks: -1 }, key);
    },
    ready: () => Promise.all(readiness).then(() => undefined),
    dispose() {
      disposed ??= (async () => {
        for (const queue of open) await queue.return();
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
