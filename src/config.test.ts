import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

/** Most cases read a development environment; unset NODE_ENV is production. */
const DEV = { NODE_ENV: 'development' } as const;

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not). */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig({ ...DEV, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted an environment it should have rejected');
}

const secret = 'x'.repeat(32);

describe('loadConfig defaults', () => {
  it('points Kafka at a local broker on 127.0.0.1:9092 that the stack starts', () => {
    const config = loadConfig(DEV);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.external).toBe(false);
    expect(config.kafka.localPort).toBe(9092);
  });

  it('points MongoDB at a local FerretDB on 127.0.0.1:27017 that the stack starts', () => {
    const config = loadConfig(DEV);
    expect(config.mongo.url).toBe('mongodb://127.0.0.1:27017/food-ordering');
    expect(config.mongo.external).toBe(false);
    expect(config.mongo.localPort).toBe(27017);
  });

  it('serves HTTP on 127.0.0.1:4000 in development with info logs and no JWT secret', () => {
    const config = loadConfig(DEV);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 4000, healthPort: 0 });
    expect(config.shutdownTimeoutMs).toBe(25_000);
    expect(config.nodeEnv).toBe('development');
    expect(config.logLevel).toBe('info');
    expect(config.jwtSecret).toBeUndefined();
  });

  it('treats a blank variable like an unset one', () => {
    const config = loadConfig({ ...DEV, PORT: '   ', KAFKA_BROKERS: ' ' });
    expect(config.http.port).toBe(4000);
    expect(config.kafka.external).toBe(false);
  });
});

describe('loadConfig with services given', () => {
  it('uses KAFKA_BROKERS as a trimmed list and marks Kafka external', () => {
    const config = loadConfig({ ...DEV, KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9094 ,kafka-3:9096' });
    expect(config.kafka.brokers).toEqual(['kafka-1:9092', 'kafka-2:9094', 'kafka-3:9096']);
    expect(config.kafka.external).toBe(true);
  });

  it('uses MONGO_URL as is and marks MongoDB external', () => {
    const config = loadConfig({ ...DEV, MONGO_URL: 'mongodb://db.example:27018/orders' });
    expect(config.mongo.url).toBe('mongodb://db.example:27018/orders');
    expect(config.mongo.external).toBe(true);
  });

  it('moves the default broker to KAFKA_PORT', () => {
    const config = loadConfig({ ...DEV, KAFKA_PORT: '19092' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.kafka.localPort).toBe(19092);
    expect(config.kafka.external).toBe(false);
  });
});

describe('loadConfig rejects a wrong environment', () => {
  it('requires JWT_SECRET in production and names it', () => {
    const error = configError({ NODE_ENV: 'production' });
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('JWT_SECRET');
  });

  it('accepts production once a long enough JWT_SECRET is given', () => {
    expect(loadConfig({ ...DEV, NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' }).jwtSecret).toBe(secret);
  });

  it('refuses production with a replication factor below 3 or min ISR below 2, naming each setting and the way out', () => {
    const error = configError({ NODE_ENV: 'production', JWT_SECRET: secret });
    expect(error.problems).toEqual([
      expect.stringMatching(/^KAFKA_REPLICATION_FACTOR is 1 but must be at least 3: .*KAFKA_ALLOW_UNDER_REPLICATION=true/),
      expect.stringMatching(/^KAFKA_MIN_INSYNC_REPLICAS is 1 but must be at least 2/),
    ]);
    const durable = loadConfig({ ...DEV, NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' });
    expect(durable.kafka.durabilityRequired).toBe(true);
    const demo = loadConfig({ ...DEV, NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_ALLOW_UNDER_REPLICATION: 'true' });
    expect(demo.kafka).toMatchObject({ replicationFactor: 1, durabilityRequired: false });
    expect(loadConfig(DEV).kafka.durabilityRequired).toBe(false); // development: one local broker
    expect(configError({ KAFKA_ALLOW_UNDER_REPLICATION: 'yes' }).problems).toEqual(['KAFKA_ALLOW_UNDER_REPLICATION must be true or false']);
  });

  it('rejects a JWT_SECRET shorter than 32 bytes', () => {
    const error = configError({ JWT_SECRET: 'x'.repeat(31) });
    expect(error.problems).toEqual(['JWT_SECRET must be at least 32 bytes']);
    // 16 two-byte characters are 32 bytes.
    expect(loadConfig({ ...DEV, JWT_SECRET: 'é'.repeat(16) }).jwtSecret).toBe('é'.repeat(16));
  });

  it.each(['abc', '0', '70000', '80.5'])('rejects PORT=%s with a message naming PORT', (value) => {
    const error = configError({ PORT: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^PORT /);
  });

  it('rejects an unknown LOG_LEVEL with a message naming LOG_LEVEL', () => {
    const error = configError({ LOG_LEVEL: 'verbose' });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('LOG_LEVEL');
  });

  it('rejects a KAFKA_BROKERS entry without a port, naming the variable and the entry', () => {
    const error = configError({ KAFKA_BROKERS: 'kafka-1:9092,kafka-2' });
    expect(error.problems).toEqual(['KAFKA_BROKERS entry "kafka-2" must look like host:port']);
  });

  it('reports several problems at once', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'verbose', JWT_SECRET: 'short' });
    expect(error.problems).toHaveLength(3);
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('JWT_SECRET');
  });

  it('rejects KAFKA_MIN_INSYNC_REPLICAS above KAFKA_REPLICATION_FACTOR', () => {
    const error = configError({ KAFKA_REPLICATION_FACTOR: '1', KAFKA_MIN_INSYNC_REPLICAS: '2' });
    expect(error.problems).toEqual(['KAFKA_MIN_INSYNC_REPLICAS cannot exceed KAFKA_REPLICATION_FACTOR']);
  });

  it('accepts KAFKA_MIN_INSYNC_REPLICAS equal to KAFKA_REPLICATION_FACTOR', () => {
    const config = loadConfig({ ...DEV, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '3' });
    expect(config.kafka.minInsyncReplicas).toBe(3);
  });

  it('reports field problems and cross-field problems in one error', () => {
    const error = configError({ PORT: 'abc', NODE_ENV: 'production', KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' });
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('JWT_SECRET is required');
  });

  it.each(['kafka:0', 'kafka:99999'])('rejects the KAFKA_BROKERS entry %s whose port is out of range', (entry) => {
    expect(configError({ KAFKA_BROKERS: entry }).problems).toEqual([`KAFKA_BROKERS entry "${entry}" must look like host:port`]);
  });

  it.each(['1e3', '0x10', ' 4000x'])('rejects PORT=%s that only looks numeric', (value) => {
    expect(configError({ PORT: value }).problems[0]).toContain('PORT');
  });
});

describe('loadConfig: consumer failure handling and call bounds', () => {
  it('defaults to a 30 s session, two minutes or 40 retries before parking, 3 restarts, 20 dead letters a minute, 15 s MongoDB operations, two minutes stuck', () => {
    const config = loadConfig(DEV);
    expect(config.consumers).toEqual({
      sessionTimeoutMs: 30_000,
      retryBudgetMs: 120_000,
      retryAttempts: 40,
      restartsBeforeParking: 3,
      stuckRoundMs: 120_000,
      deadLetterBreaker: { limit: 20, windowMs: 60_000 },
    });
    expect(config.mongo.operationTimeoutMs).toBe(15_000);
  });

  it('keeps every external call bounded below the session timeout', () => {
    expect(configError({ CONSUMER_SESSION_TIMEOUT_MS: '30000', MONGO_OPERATION_TIMEOUT_MS: '30000', CONSUMER_STUCK_ROUND_MS: '150000' }).problems).toEqual([
      'MONGO_OPERATION_TIMEOUT_MS must be below CONSUMER_SESSION_TIMEOUT_MS: a consumer waiting on MongoDB would lose its partitions',
    ]);
    // A round that persists makes several store calls in a row: stuck means well past all of them.
    expect(configError({ CONSUMER_SESSION_TIMEOUT_MS: '60000', MONGO_OPERATION_TIMEOUT_MS: '20000', CONSUMER_STUCK_ROUND_MS: '80000' }).problems).toEqual([
      'CONSUMER_STUCK_ROUND_MS must be above 4 × MONGO_OPERATION_TIMEOUT_MS: a round that persists makes several store calls in a row, each bounded by it',
    ]);
    expect(configError({ CONSUMER_STUCK_ROUND_MS: '30000', MONGO_OPERATION_TIMEOUT_MS: '5000' }).problems).toEqual(['CONSUMER_STUCK_ROUND_MS must be at least 60000']);
    expect(configError({ CONSUMER_SESSION_TIMEOUT_MS: '20000', MONGO_OPERATION_TIMEOUT_MS: '5000' }).problems[0]).toMatch(/CONSUMER_SESSION_TIMEOUT_MS must be at least 25000/);
  });

  it('rejects a zero restart count or breaker limit', () => {
    expect(configError({ CONSUMER_RESTARTS_BEFORE_PARKING: '0', DEAD_LETTER_BREAKER_LIMIT: '0' }).problems).toEqual([
      'CONSUMER_RESTARTS_BEFORE_PARKING must be at least 1',
      'DEAD_LETTER_BREAKER_LIMIT must be at least 1',
    ]);
  });

  it('HEALTH_PORT may be 0 (any free port) but not above 65535; SHUTDOWN_TIMEOUT_MS is at least 1000', () => {
    expect(loadConfig({ ...DEV, HEALTH_PORT: '9464', SHUTDOWN_TIMEOUT_MS: '5000' })).toMatchObject({ http: { healthPort: 9464 }, shutdownTimeoutMs: 5000 });
    expect(() => loadConfig({ ...DEV, HEALTH_PORT: '70000' })).toThrow(/HEALTH_PORT/);
    expect(() => loadConfig({ ...DEV, SHUTDOWN_TIMEOUT_MS: '10' })).toThrow(/SHUTDOWN_TIMEOUT_MS/);
  });
});

describe('loadConfig: production-safe defaults', () => {
  it('treats an unset NODE_ENV as production: a JWT_SECRET and replicated topics are required', () => {
    expect(configError({ NODE_ENV: undefined }).problems).toEqual([
      'JWT_SECRET is required when NODE_ENV=production',
      expect.stringMatching(/^KAFKA_REPLICATION_FACTOR is 1/),
      expect.stringMatching(/^KAFKA_MIN_INSYNC_REPLICAS is 1/),
    ]);
    expect(loadConfig({ JWT_SECRET: secret, KAFKA_ALLOW_UNDER_REPLICATION: 'true' }).nodeEnv).toBe('production');
  });

  it('turns introspection and GraphiQL off in production unless GRAPHQL_INTROSPECTION=true', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_ALLOW_UNDER_REPLICATION: 'true' };
    expect(loadConfig(production).graphql).toEqual({ introspection: false, graphiql: false });
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).graphql).toEqual({ introspection: true, graphiql: true });
    expect(loadConfig(DEV).graphql).toEqual({ introspection: true, graphiql: true });
    expect(loadConfig({ ...DEV, GRAPHQL_INTROSPECTION: 'false' }).graphql).toEqual({ introspection: false, graphiql: false });
    expect(configError({ GRAPHQL_INTROSPECTION: 'yes' }).problems).toEqual(['GRAPHQL_INTROSPECTION must be true or false']);
  });

  it('serves the operations dashboard in development and test, in production only with DASHBOARD_ENABLED=true', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_ALLOW_UNDER_REPLICATION: 'true' };
    expect(loadConfig(production).dashboard).toEqual({ enabled: false });
    expect(loadConfig({ ...production, DASHBOARD_ENABLED: 'true' }).dashboard).toEqual({ enabled: true });
    expect(loadConfig(DEV).dashboard).toEqual({ enabled: true });
    expect(loadConfig({ NODE_ENV: 'test' }).dashboard).toEqual({ enabled: true });
    expect(loadConfig({ ...DEV, DASHBOARD_ENABLED: 'false' }).dashboard).toEqual({ enabled: false });
    expect(configError({ DASHBOARD_ENABLED: 'on' }).problems).toEqual(['DASHBOARD_ENABLED must be true or false']);
  });

  it('offers demo tokens only in development without a JWT_SECRET of the operator', () => {
    expect(loadConfig(DEV).demoTokens).toBe(true);
    expect(loadConfig({ ...DEV, JWT_SECRET: secret }).demoTokens).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).demoTokens).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_ALLOW_UNDER_REPLICATION: 'true' }).demoTokens).toBe(false);
  });

  it('pins issuer and audience and bounds token lifetime and clock skew', () => {
    expect(loadConfig(DEV).tokens).toEqual({ issuer: 'food-ordering', audience: 'food-ordering-api', maxLifetimeSeconds: 86_400, clockSkewSeconds: 30 });
    expect(loadConfig({ ...DEV, JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'orders' }).tokens).toMatchObject({ issuer: 'https://id.example', audience: 'orders' });
    expect(configError({ JWT_CLOCK_SKEW_SECONDS: '301' }).problems).toEqual(['JWT_CLOCK_SKEW_SECONDS must be at most 300']);
    expect(configError({ JWT_MAX_LIFETIME_SECONDS: '0' }).problems).toEqual(['JWT_MAX_LIFETIME_SECONDS must be at least 1']);
  });
  it('has rate limits and WebSocket caps on by default, per instance in memory, X-Forwarded-For not trusted', () => {
    expect(loadConfig(DEV).limits).toEqual({
      store: 'memory',
      orderMutationsPerMinute: 30,
      anonymousPerMinute: 60,
      socketsPerMinute: 20,
      subscribesPerMinute: 60,
      maxSocketsPerUser: 10,
      maxSubscriptionsPerSocket: 20,
      maxBufferedBytes: 1_048_576,
      trustProxyHops: 0,
    });
    expect(loadConfig({ ...DEV, RATE_LIMIT_STORE: 'mongo', TRUST_PROXY_HOPS: '2' }).limits).toMatchObject({ store: 'mongo', trustProxyHops: 2 });
    expect(configError({ RATE_LIMIT_STORE: 'redis' }).problems).toEqual(['RATE_LIMIT_STORE must be memory or mongo']);
    expect(configError({ RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: '0' }).problems).toEqual(['RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE must be at least 1']);
    expect(configError({ WS_MAX_BUFFERED_BYTES: '10' }).problems).toEqual(['WS_MAX_BUFFERED_BYTES must be at least 1024']);
  });
});

describe('loadConfig: Kafka TLS and SASL', () => {
  const BROKERS = { KAFKA_BROKERS: 'kafka-1.internal:9096' };
  const dir = mkdtempSync(join(tmpdir(), 'config-spec-'));
  const caFile = join(dir, 'ca.pem');
  const passwordFile = join(dir, 'password');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(passwordFile, 'from-a-mounted-secret\n');

  it('connects in plaintext without SASL by default', () => {
    const config = loadConfig(DEV);
    expect(config.kafka.ssl).toBeUndefined();
    expect(config.kafka.sasl).toBeUndefined();
  });

  it('reads TLS with its CA file and SCRAM credentials', () => {
    const config = loadConfig({
      ...DEV, ...BROKERS, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'orders', KAFKA_SASL_PASSWORD: 'pw',
    });
    expect(config.kafka.ssl).toEqual({ ca: readFileSync(caFile, 'utf8'), rejectUnauthorized: true });
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'orders', password: 'pw' });
  });

  it('reads the password from KAFKA_SASL_PASSWORD_FILE without its trailing newline', () => {
    const config = loadConfig({ ...DEV, ...BROKERS, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'orders', KAFKA_SASL_PASSWORD_FILE: passwordFile });
    expect(config.kafka.sasl?.password).toBe('from-a-mounted-secret');
  });

  it('reports incomplete, contradictory or unreadable settings all at once', () => {
    expect(configError({ KAFKA_SSL: 'yes', KAFKA_SASL_MECHANISM: 'gssapi' }).problems).toEqual(expect.arrayContaining([
      'KAFKA_SSL must be true or false',
      'KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512',
    ]));
    expect(configError({ KAFKA_SASL_MECHANISM: 'scram-sha-256' }).problems).toEqual([
      'KAFKA_SSL and KAFKA_SASL_MECHANISM need KAFKA_BROKERS: the local broker started without it listens in plaintext',
      'KAFKA_SASL_MECHANISM=scram-sha-256 needs KAFKA_SASL_USERNAME',
      'KAFKA_SASL_MECHANISM=scram-sha-256 needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE',
    ]);
    expect(configError({ ...BROKERS, KAFKA_SASL_USERNAME: 'orders', KAFKA_SASL_PASSWORD: 'pw', KAFKA_SASL_PASSWORD_FILE: passwordFile }).problems).toEqual([
      'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD(_FILE) need KAFKA_SASL_MECHANISM',
    ]);
    const unreadable = configError({ ...BROKERS, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }).problems;
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]).toMatch(/^KAFKA_SSL_CA_FILE cannot be read: ENOENT/);
    expect(configError({ ...BROKERS, KAFKA_SSL_CA_FILE: caFile }).problems).toEqual(['KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true']);
  });

  it('refuses in production an unverified broker certificate and a PLAIN password in clear', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: secret, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2', ...BROKERS };
    expect(configError({ ...production, KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }).problems).toEqual([
      'KAFKA_SSL_REJECT_UNAUTHORIZED=false is refused in production: an unverified broker could collect the SASL password',
    ]);
    expect(configError({ ...production, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'orders', KAFKA_SASL_PASSWORD: 'pw' }).problems).toEqual([
      'KAFKA_SASL_MECHANISM=plain without KAFKA_SSL=true is refused in production: the password would cross the network in clear',
    ]);
    expect(loadConfig({ ...production, KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'orders', KAFKA_SASL_PASSWORD: 'pw' }).kafka.sasl?.mechanism).toBe('plain');
  });
});
