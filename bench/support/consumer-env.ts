import type { Config } from '../../src/config';

/**
 * The environment of the product's consumer processes a benchmark starts: nothing from the
 * benchmark's own process but PATH and HOME, and the deployment's settings from `config`.
 */
export function consumerEnv(config: Config, options: { readonly smtpUrl: string; readonly jwtSecret: string; readonly logLevel: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    KAFKA_NAMESPACE: config.kafka.namespace,
    KAFKA_TOPIC_PARTITIONS: String(config.kafka.topicPartitions),
    KAFKA_REPLICATION_FACTOR: String(config.kafka.replicationFactor),
    KAFKA_MIN_INSYNC_REPLICAS: String(config.kafka.minInsyncReplicas),
    MONGO_URL: config.mongo.url,
    SMTP_URL: options.smtpUrl,
    JWT_SECRET: options.jwtSecret,
    LOG_LEVEL: options.logLevel,
    LOG_FORMAT: 'json',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
}
