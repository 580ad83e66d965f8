/**
 * Kafka over TLS with SASL, for real: a one-node Kafka of its own (src/devstack/kafka.ts) with
 * an extra SASL_SSL listener whose certificate a throwaway CA signed, PLAIN users in its JAAS
 * configuration and SCRAM users formatted into its metadata. The product's own client
 * (createKafka, configured by loadConfig from KAFKA_SSL, KAFKA_SSL_CA_FILE and KAFKA_SASL_*)
 * produces and consumes there with each mechanism, and a wrong password is refused at once with
 * an error that says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { startKafka, stopKafka } from '../../src/devstack/kafka';
import { stackPaths } from '../../src/devstack/paths';
import { createServedTopics } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { freePortRun } from '../support/processes';
import { uniqueName, waitFor } from '../support/services';
import { makeThrowawayTls, type ThrowawayTls } from '../support/throwaway-tls';

const log = createLogger('test', { level: 'silent' });
const paths = stackPaths('.local');
const cluster = uniqueName('sasl-ssl');
const topic = uniqueName('sasl-ssl');
const password = () => randomBytes(12).toString('hex');
const PLAIN_USER = { name: 'orders-plain', password: password() };
const SCRAM_USER = { name: 'orders-scram', password: password() };
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

const dir = mkdtempSync(join(tmpdir(), 'kafka-sasl-ssl-'));
let tls: ThrowawayTls;
let saslPort = 0;

/** Three consecutive free ports (broker, controller, SASL_SSL) in a range no other test uses. */
/** The product's client, configured the way an operator would: environment variables only. */
function clientFor(mechanism: Mechanism, secret?: string): Kafka {
  const user = mechanism === 'plain' ? PLAIN_USER : SCRAM_USER;
  const config = loadConfig({
    NODE_ENV: 'test',
    KAFKA_BROKERS: `127.0.0.1:${saslPort}`,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: tls.caFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: user.name,
    KAFKA_SASL_PASSWORD: secret ?? user.password,
  });
  return createKafka(config, uniqueName(`sasl-${mechanism}`), log);
}

describe('Kafka over SASL_SSL through createKafka', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    tls = makeThrowawayTls(dir);
    // Below the kernel's client ports, so no client socket takes one between the check and Kafka's
    // bind (a CI run once saw this node fail to open its listener with ports at 41,000-47,000).
    const basePort = await freePortRun(3);
    saslPort = basePort + 2;
    await startKafka({
      paths, log, name: cluster, nodeCount: 1, basePort,
      saslSsl: {
        port: saslPort,
        keystoreFile: tls.keystoreFile,
        keystorePassword: tls.keystorePassword,
        plainUsers: { [PLAIN_USER.name]: PLAIN_USER.password },
        scramUsers: { [SCRAM_USER.name]: SCRAM_USER.password },
      },
    });
  });

  afterAll(async () => {
    await stopKafka(paths, cluster, log);
    rmSync(paths.kafkaCluster(cluster), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a topic, produces with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and consumes every message', async () => {
    const admin = clientFor('scram-sha-512').admin();
    await admin.connect();
    try {
      await createServedTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    } finally {
      await admin.disconnect();
    }

    for (const mechanism of MECHANISMS) {
      const producer = clientFor(mechanism).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ key: mechanism, value: `sent with ${mechanism}` }] });
      } finally {
        await producer.disconnect();
      }
    }

    const consumer = clientFor('scram-sha-256').consumer({ groupId: uniqueName('sasl-ssl') });
    const received: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
      await waitFor(() => received.length >= MECHANISMS.length, 30_000, 'the three messages');
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual(MECHANISMS.map((mechanism) => `sent with ${mechanism}`));
  });

  it.each(MECHANISMS)('refuses a wrong %s password at once, saying authentication failed', async (mechanism) => {
    const admin = clientFor(mechanism, 'not-the-password').admin();
    const started = Date.now();
    const refusal = await admin.connect().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    await admin.disconnect();
    expect(refusal?.name).toBe('KafkaJSSASLAuthenticationError');
    const label = mechanism === 'plain' ? 'PLAIN' : mechanism.toUpperCase().replace('SCRAM-SHA-', 'SCRAM SHA');
    expect(refusal?.message).toMatch(new RegExp(`^SASL ${label} authentication failed: .*(invalid|Authentication failed)`, 'i'));
    // Not retried: a refused password does not become right by asking again.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
