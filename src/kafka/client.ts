import { Kafka, logLevel, Partitioners, type ICustomPartitioner, type logCreator, type Producer, type ProducerBatch, type RecordMetadata, type SASLOptions, type TopicMessages } from 'kafkajs';
import type { Config } from '../config';
import type { Logger } from '../logger';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Bounded retries are deliberate: a placeOrder must answer UNAVAILABLE rather than hang while
 * Kafka is away, and the idempotency guarantee we rely on (no duplicate within a producer
 * session) holds. kafkajs warns about it at every producer start, which is noise here.
 */
const EXPECTED_WARNING = /^Limiting retries for the idempotent producer/;

/**
 * kafkajs logs every error response a broker sends ("Response ListOffsets… not the leader")
 * at error level, although the request's caller retries or reports it: the caller's own log
 * line is the one worth reading, so these go to debug.
 */
function isAnsweredRequest(namespace: string, message: string): boolean {
  return namespace === 'Connection' && message.startsWith('Response ');
}

/** Routes kafkajs' own logs into the process's pino logger, one line each. */
function pinoLogCreator(log: Logger): logCreator {
  return () => ({ namespace, level, log: entry }) => {
    const { message, timestamp: _timestamp, logger: _logger, ...rest } = entry;
    const pinoLevel = EXPECTED_WARNING.test(message) || isAnsweredRequest(namespace, message) ? 'debug' : (LEVELS[level] ?? 'info');
    log[pinoLevel]({ kafkajs: namespace, ...rest }, message);
  };
}

/**
 * A kafkajs client for one process (`clientId` names it in broker logs and group listings),
 * over TLS and with SASL when configured (KAFKA_SSL, KAFKA_SASL_*). Every Kafka client of the
 * product is made here, so none of them can skip those settings.
 */
export function createKafka(config: Config, clientId: string, log: Logger): Kafka {
  const { ssl, sasl } = config.kafka;
  return new Kafka({
    clientId,
    brokers: [...config.kafka.brokers],
    // `ca` replaces Node's bundled CAs for these connections only.
    ssl: ssl && { rejectUnauthorized: ssl.rejectUnauthorized, ...(ssl.ca === undefined ? {} : { ca: [ssl.ca] }) },
    // kafkajs types each mechanism as its own intersection, which a union-typed one cannot match.
    sasl: sasl && ({ mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions),
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(log.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
  });
}

/** An idempotent, one-request-at-a-time producer that is replaced after any failed send. */
export interface FreshProducer {
  /** Runs `send` on the current producer (connecting one if needed); if it throws, that producer is discarded. */
  use<T>(send: (producer: Producer) => Promise<T>): Promise<T>;
  /**
   * Sends the batch (acks=all) and makes sure every partition of it was written: what kafkajs
   * dropped (see PartitionsDropped) goes again on a fresh producer, a few times at most.
   */
  sendBatch(batch: Omit<ProducerBatch, 'acks'>): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

/** The partition the partitioner gave each message, so that a send can tell which ones Kafka answered for. */
const partitionOf = new WeakMap<object, number>();

const recordingPartitioner: ICustomPartitioner = () => {
  const choose = Partitioners.DefaultPartitioner();
  return (args) => {
    const partition = choose(args);
    partitionOf.set(args.message, partition);
    return partition;
  };
};

/**
 * A send that resolved without writing some of its partitions. kafkajs 2.2.4 retries a failed
 * send only towards the brokers that have not answered it yet (sendMessages' responsePerBroker):
 * when a partition's leader dies mid-send and leadership moves to a broker that already answered
 * for other partitions, that partition's messages are never sent again, and the send resolves
 * as if they had been (kafkajs#1303). Drill 5 lost an order's CONFIRMED status this way. The
 * producer is spent too: it rolled that partition's sequence back although the lost request
 * may have been appended, so its next batch there could be taken for a duplicate.
 */
export class PartitionsDropped extends Error {
  readonly retriable = true;
  constructor(readonly unsent: TopicMessages[]) {
    const where = unsent.map((t) => `${t.topic} (${t.messages.length})`).join(', ');
    super(`kafkajs resolved a send without writing some of its partitions: ${where}`);
  }
}

/** PURE: the messages of `sent` whose partition is missing from Kafka's answers. */
export function unansweredMessages(sent: readonly TopicMessages[], answered: readonly RecordMetadata[]): TopicMessages[] {
  const written = new Set(answered.map((a) => `${a.topicName}\0${a.partition}`));
  return sent
    .map(({ topic, messages }) => ({ topic, messages: messages.filter((m) => !written.has(`${topic}\0${partitionOf.get(m) ?? m.partition}`)) }))
    .filter((t) => t.messages.length > 0);
}

/** Resends of dropped partitions before a send gives up (retriable): each needs a rare leader move mid-send. */
const DROPPED_RESENDS = 5;

/**
 * Why a failed send discards its producer: kafkajs rolls a partition's sequence number back when
 * a send finally fails. If that send had in fact been appended (its answer lost), the same
 * producer's next batch would carry the appended one's sequence, and the broker would
 * acknowledge it as a duplicate without writing it: an acknowledged event lost
 * (test/integration/lost-produce-answer.test.ts). A fresh producer has a new producer id.
 */
export async function connectFreshProducer(kafka: Kafka): Promise<FreshProducer> {
  const connect = async (): Promise<Producer> => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: recordingPartitioner });
    await producer.connect();
    return producer;
  };
  let current: Promise<Producer> | null = connect();
  await current;
  let stopped = false;
  const log = kafka.logger().namespace('FreshProducer');
  const use: FreshProducer['use'] = async (send) => {
    if (stopped) throw new Error('the producer is stopped');
    const attempt = (current ??= connect());
    let producer: Producer;
    try {
      producer = await attempt;
    } catch (error) {
      if (current === attempt) current = null;
      throw error;
    }
    try {
      return await send(producer);
    } catch (error) {
      if (current === attempt) current = null;
      producer.disconnect().catch(() => undefined);
      throw error;
    }
  };
  return {
    use,
    async sendBatch(batch) {
      let topicMessages = batch.topicMessages ?? [];
      const answers: RecordMetadata[] = [];
      for (let resends = 0; ; resends++) {
        const sent = topicMessages;
        try {
          return await use(async (producer) => {
            const answered = await producer.sendBatch({ ...batch, acks: -1, topicMessages: sent });
            answers.push(...answered);
            const unsent = unansweredMessages(sent, answered);
            if (unsent.length > 0) throw new PartitionsDropped(unsent);
            return answers;
          });
        } catch (error) {
          if (!(error instanceof PartitionsDropped) || resends >= DROPPED_RESENDS) throw error;
          log.warn(`${error.message}; sending them again on a fresh producer`, { resend: resends + 1 });
          topicMessages = error.unsent;
        }
      }
    },
    async disconnect() {
      stopped = true;
      const last = current;
      current = null;
      await (await last?.catch(() => null))?.disconnect();
    },
  };
}
