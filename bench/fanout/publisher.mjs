/**
 * The fanout benchmark's event source, in a process of its own so that its schedule holds even
 * while the API (in the benchmark process) is busy fanning out: it produces the messages it is
 * given straight to a Kafka topic, one every `intervalMs`, and reports when it sent each
 * (performance.timeOrigin + performance.now(), the clock of the API's arrival hook).
 *
 *   parent → child  { type: 'start', brokers, topic, messages: [{ seq, key, value }], intervalMs }
 *   child → parent  { type: 'ready' }                           connected; the first send follows at once
 *                   { type: 'progress', sent }                  about once a second
 *                   { type: 'done', sentAt: { seq: ms }, errors, lateMs }   every send acknowledged (or failed)
 *
 * lateMs: how far behind its schedule the latest send was (this process is not immune to a busy machine).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';

const { Kafka, Partitioners, logLevel } = kafkajs;
const now = () => performance.timeOrigin + performance.now();

async function run({ brokers, topic, messages, intervalMs }) {
  const kafka = new Kafka({ clientId: 'bench-fanout-publisher', brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  process.send({ type: 'ready' });
  const sentAt = {};
  const errors = [];
  const sends = [];
  let lateMs = 0;
  let sent = 0;
  const progress = setInterval(() => process.send({ type: 'progress', sent }), 1000);
  const start = performance.now();
  for (const [i, message] of messages.entries()) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    lateMs = Math.max(lateMs, performance.now() - due);
    sentAt[message.seq] = now();
    sent += 1;
    sends.push(
      producer
        .send({ topic, acks: -1, messages: [{ key: message.key, value: message.value }] })
        .catch((error) => void (errors.length < 10 && errors.push(`event ${message.seq}: ${error?.message ?? String(error)}`))),
    );
  }
  await Promise.all(sends);
  clearInterval(progress);
  await producer.disconnect();
  process.send({ type: 'done', sentAt, errors, lateMs: Math.round(lateMs) }, () => process.exit(0));
}

process.on('message', (message) => {
  if (message.type === 'start') {
    run(message).catch((error) => {
      process.send({ type: 'done', sentAt: {}, errors: [`the publisher failed: ${error?.message ?? String(error)}`], lateMs: 0 }, () => process.exit(1));
    });
  }
});
process.on('disconnect', () => process.exit(0));
