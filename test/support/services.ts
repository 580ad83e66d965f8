import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config';

/** The product's configuration pointed at the services the global setup made sure of. */
export function testConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    MONGO_URL: inject('mongoUrl'),
    ...overrides,
  });
}

/** A name no other test (or earlier run) uses: tests share one broker and one database. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A database URL of its own for one test file, on the shared server. */
export function uniqueMongoUrl(prefix: string): string {
  const url = new URL(inject('mongoUrl'));
  url.pathname = `/${uniqueName(prefix)}`;
  return url.toString();
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.WARN });
}
