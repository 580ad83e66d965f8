import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from './errors';

/**
 * Every environment variable the product reads, with its default and what happens when it
 * is wrong. This table is the single source: `loadConfig` parses it, the README's
 * configuration table and docker-compose.yml are checked against it by tests.
 */
export const configOptions = {
  NODE_ENV: {
    default: 'production',
    doc: '`development`, `test` or `production`; unset is production. Production requires JWT_SECRET and replicated topics, and turns introspection and GraphiQL off. `./dev up` sets `development`, the tests and benchmarks `test`.',
  },
  GRAPHQL_INTROSPECTION: {
    default: '',
    doc: '`true` answers introspection and serves GraphiQL at GET /graphql, `false` does neither; unset: on in development and test, off in production.',
  },
  DASHBOARD_ENABLED: {
    default: '',
    doc: '`true` serves the live operations dashboard at GET /dashboard (signed in with an ADMIN or RESTAURANT token), `false` does not (404); unset: on in development and test, off in production.',
  },
  HOST: {
    default: '127.0.0.1',
    doc: 'Interface the API listens on. Containers set `0.0.0.0`.',
  },
  PORT: { default: '4000', doc: 'HTTP and WebSocket port of the API (`/graphql`; its probes `/livez` and `/readyz` too).' },
  HEALTH_PORT: {
    default: '0',
    doc: 'Port of a consumer process\'s probe listener (`/livez`, `/readyz`) on HOST; `0` picks a free one, logged at start. The API serves its probes on PORT. Given to `./dev up`, the first of fixed ports, one block per module (see Scaling locally).',
  },
  METRICS_LAG_INTERVAL_MS: {
    default: '10000',
    doc: 'How often a consumer process reads its group\'s lag (committed against end offsets) from Kafka for `kafka_consumer_lag` on its `/metrics`.',
  },
  TRACING_ENABLED: {
    default: 'false',
    doc: '`true` records OpenTelemetry traces (one order from placeOrder through every consumer module to its subscription deliveries; the trace context rides in Kafka message headers) and exports them over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. `false`: nothing is recorded or sent.',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    default: 'http://127.0.0.1:4318',
    doc: 'Base URL of the OTLP/HTTP collector (Jaeger, an OpenTelemetry Collector); spans go to `<endpoint>/v1/traces`. Used only with TRACING_ENABLED=true; a collector out of reach loses spans (logged), never requests.',
  },
  OTEL_SERVICE_NAME: {
    default: '',
    doc: 'The service name on this process\'s spans; unset: `food-ordering-<process>` (`food-ordering-api`, `food-ordering-transactions`, …).',
  },
  TRACING_SAMPLE_RATIO: {
    default: '1',
    doc: 'Share of new traces recorded, from 0 to 1: the API decides per request, and consumers follow the decision carried in each message\'s headers.',
  },
  SHUTDOWN_TIMEOUT_MS: {
    default: '25000',
    doc: 'After SIGTERM a process exits within this even while Kafka or MongoDB is down (readiness fails at once; in-flight work finishes within it). Keep it below the orchestrator\'s grace period.',
  },
  KAFKA_BROKERS: {
    default: '',
    doc: 'Comma-separated `host:port` list. Set: used as is, nothing is started. Unset: a local broker is started on KAFKA_PORT.',
  },
  KAFKA_PORT: {
    default: '9092',
    doc: 'Port of the local Kafka broker started when KAFKA_BROKERS is unset (its controller uses the next port).',
  },
  KAFKA_TOPIC_PARTITIONS: {
    default: '6',
    doc: 'Partitions of each topic created at start; the most instances of one consumer module that share work.',
  },
  KAFKA_NAMESPACE: {
    default: '',
    doc: 'Optional prefix for every topic and consumer group (`<namespace>.order.placed`): several deployments or test runs share one cluster without seeing each other.',
  },
  KAFKA_REPLICATION_FACTOR: { default: '1', doc: 'Replication factor of created topics (3 on a cluster).' },
  KAFKA_MIN_INSYNC_REPLICAS: { default: '1', doc: '`min.insync.replicas` of created topics (2 on a cluster).' },
  KAFKA_ALLOW_UNDER_REPLICATION: {
    default: 'false',
    doc: '`true` lets NODE_ENV=production run with KAFKA_REPLICATION_FACTOR below 3 or KAFKA_MIN_INSYNC_REPLICAS below 2 (a single-broker demo, e.g. docker-compose); otherwise production refuses to start: an acknowledged order must survive the loss of a broker.',
  },
  KAFKA_SSL: {
    default: 'false',
    doc: '`true` connects to every broker over TLS (an SSL or SASL_SSL listener) and verifies its certificate against KAFKA_SSL_CA_FILE, or Node\'s bundled CAs when that is unset. Needs KAFKA_BROKERS (the local broker listens in plaintext).',
  },
  KAFKA_SSL_CA_FILE: {
    default: '',
    doc: 'PEM file of the CA(s) that signed the brokers\' certificates, read at start (an unreadable file stops the process); replaces Node\'s bundled CAs for Kafka.',
  },
  KAFKA_SSL_REJECT_UNAUTHORIZED: {
    default: 'true',
    doc: '`false` accepts any broker certificate: encrypted, but the broker is not authenticated, so a password sent over SASL could go to an impostor. Refused in production.',
  },
  KAFKA_SASL_MECHANISM: {
    default: '',
    doc: '`plain`, `scram-sha-256` or `scram-sha-512`: authenticate to Kafka as KAFKA_SASL_USERNAME. Unset: no SASL. Production refuses `plain` without KAFKA_SSL (the password would cross the network in clear). A refused password stops the process with `SASL … authentication failed`; it is not retried.',
  },
  KAFKA_SASL_USERNAME: { default: '', doc: 'SASL user; required with KAFKA_SASL_MECHANISM.' },
  KAFKA_SASL_PASSWORD: {
    default: '',
    doc: 'SASL password, from the environment only (never a file in the repository, never logged). Set this or KAFKA_SASL_PASSWORD_FILE with KAFKA_SASL_MECHANISM.',
  },
  KAFKA_SASL_PASSWORD_FILE: {
    default: '',
    doc: 'File holding the SASL password (a mounted secret), read at start; one trailing newline is ignored. Set at most one of it and KAFKA_SASL_PASSWORD.',
  },
  PUBLISH_TIMEOUT_MS: {
    default: '8000',
    doc: 'Longest the API waits for Kafka to acknowledge an order (placeOrder) before answering UNAVAILABLE; the order may then still be placed, so a client retries with the same idempotency key.',
  },
  ORDER_DECISION_TIMEOUT_MS: {
    default: '5000',
    doc: 'Longest cancelOrder and advanceOrder wait for the order authority to decide before answering UNAVAILABLE; the request may then still be decided, and sending it again is answered as decided.',
  },
  CONSUMER_SESSION_TIMEOUT_MS: {
    default: '30000',
    doc: 'Consumer group session timeout: a consumer silent this long loses its partitions. Every external call a consumer makes is bounded below it (MONGO_OPERATION_TIMEOUT_MS; payment gateway 10 s; SMTP 20 s), so it must be at least 25000.',
  },
  CONSUMER_RETRY_BUDGET_MS: {
    default: '120000',
    doc: 'How long a consumer retries a message that fails retriably (a claim held elsewhere, a flaky gateway) before parking it in `<topic>.parked`. Kafka or MongoDB being unreachable is waited out instead, never parked.',
  },
  CONSUMER_RETRY_ATTEMPTS: {
    default: '40',
    doc: 'The most retries of such a message before it is parked, whichever of this and CONSUMER_RETRY_BUDGET_MS comes first.',
  },
  CONSUMER_STUCK_ROUND_MS: {
    default: '120000',
    doc: 'A consumer whose round stays this long in a step made only of calls with their own deadlines (loading state, persisting: MongoDB, the payment gateway, SMTP) is hung on something those deadlines missed: it logs where, exits 1 without committing and its supervisor restarts it. Kafka steps (produce, commit) are only logged. At least 60000, and above 4 × MONGO_OPERATION_TIMEOUT_MS.',
  },
  CONSUMER_RESTARTS_BEFORE_PARKING: {
    default: '3',
    doc: 'A consumer stops (exit 1, nothing committed) on an environment or unexpected error; once it has restarted this many times in a row at the same message, that message is parked in `<topic>.parked` and the stream goes on.',
  },
  DEAD_LETTER_BREAKER_LIMIT: {
    default: '20',
    doc: 'More dead letters than this within DEAD_LETTER_BREAKER_WINDOW_MS stop the consumer (exit 1) with the reason: a flood of invalid messages is a fault upstream, not a few bad messages.',
  },
  DEAD_LETTER_BREAKER_WINDOW_MS: { default: '60000', doc: 'The window of DEAD_LETTER_BREAKER_LIMIT.' },
  MONGO_OPERATION_TIMEOUT_MS: {
    default: '15000',
    doc: 'Longest one MongoDB operation may wait for the server (socket and server selection); below CONSUMER_SESSION_TIMEOUT_MS.',
  },
  MONGO_CLIENT_STUCK_MS: {
    default: '120000',
    doc: 'A process (the API or a consumer) whose MongoDB client has not reached the store for this long, while the store answers a connection of its own, has a wedged driver: it logs why and exits 1 for its supervisor to start a fresh one. A store that is really away is waited out. At least 10000.',
  },
  MONGO_URL: {
    default: '',
    doc: 'MongoDB connection string; credentials and TLS go in it, e.g. `mongodb://orders:PASSWORD@db.internal:27017/food-ordering?authSource=admin&tls=true&tlsCAFile=/run/secrets/mongo-ca.pem`. Logs show it with the password replaced by `***`. Set: used as is, nothing is started. Unset: a local FerretDB is started on MONGO_PORT.',
  },
  MONGO_PORT: { default: '27017', doc: 'Port of the local FerretDB started when MONGO_URL is unset.' },
  JWT_ISSUER: { default: 'food-ordering', doc: 'The `iss` every access token must carry; others are refused.' },
  JWT_AUDIENCE: { default: 'food-ordering-api', doc: 'The `aud` every access token must carry; others are refused.' },
  JWT_MAX_LIFETIME_SECONDS: {
    default: '86400',
    doc: 'Longest lifetime (`exp` minus `iat`) of an accepted access token; a token without `iat` or living longer is refused.',
  },
  JWT_CLOCK_SKEW_SECONDS: {
    default: '30',
    doc: 'Tolerance, at most 300, for clocks disagreeing on `exp`, `nbf` and `iat`.',
  },
  JWT_SECRET: {
    default: '',
    doc: 'HS256 secret for access tokens, at least 32 bytes. Required in production. Unset (development and test): the API generates one per start, and in development prints demo tokens signed with it; tokens are never signed with a secret you give.',
  },
  SMTP_URL: {
    default: '',
    doc: 'SMTP server for confirmation emails, e.g. `smtp://mailpit:1025`. Set: used as is, nothing is started. Unset: `./dev up` starts a local Mailpit (MAILPIT_SMTP_PORT) and points the consumers at it; a process run on its own without it records emails in its log instead of sending them.',
  },
  MAILPIT_SMTP_PORT: { default: '1025', doc: 'SMTP port of the local Mailpit started when SMTP_URL is unset.' },
  MAILPIT_UI_PORT: { default: '8025', doc: 'Web page and HTTP API port of the local Mailpit started when SMTP_URL is unset.' },
  RATE_LIMIT_STORE: {
    default: 'memory',
    doc: 'Where rate-limit counters live: `memory` (each API instance counts on its own) or `mongo` (the `rate_limits` collection of MONGO_URL, shared by every instance; entries expire by the time stored in them, no TTL index needed). Unreachable MongoDB: each instance counts in memory meanwhile.',
  },
  RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: {
    default: '30',
    doc: 'placeOrder and cancelOrder calls, together, per customer (token `sub`) per minute; beyond it they answer RATE_LIMITED with `retryAfterSeconds` (HTTP 429 with Retry-After).',
  },
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: {
    default: '60',
    doc: 'Requests without a valid token (HTTP, and WebSocket connection attempts) per client address per minute; beyond it HTTP answers 429 RATE_LIMITED with Retry-After and a socket is closed with 4429.',
  },
  RATE_LIMIT_SOCKETS_PER_MINUTE: {
    default: '20',
    doc: 'WebSocket connections a user opens per minute; beyond it the socket is closed with 4429 (its reason says when to retry).',
  },
  RATE_LIMIT_SUBSCRIBES_PER_MINUTE: {
    default: '60',
    doc: 'Subscribe messages per socket per minute; beyond it that operation gets RATE_LIMITED and the socket stays open. Counted per instance (a socket lives on one).',
  },
  WS_MAX_SOCKETS_PER_USER: {
    default: '10',
    doc: 'Open WebSockets per user on one API instance; one more is closed with 4429.',
  },
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: {
    default: '20',
    doc: 'Operations running at once on one WebSocket; one more gets RATE_LIMITED for that operation and the socket stays open.',
  },
  WS_MAX_BUFFERED_BYTES: {
    default: '1048576',
    doc: 'Bytes queued for a WebSocket whose reader is slow; beyond it the socket is closed with 4413 and the app reconnects and catches up.',
  },
  TRUST_PROXY_HOPS: {
    default: '0',
    doc: 'Reverse proxies in front of the API whose `X-Forwarded-For` is trusted to name the client address (per-address limits): `0` uses the connection\'s own address and ignores the header; `1` one proxy (a load balancer), and so on.',
  },
  LOG_LEVEL: { default: 'info', doc: 'pino level: `fatal`, `error`, `warn`, `info`, `debug` or `trace`.' },
  LOG_FORMAT: {
    default: 'json',
    doc: '`json` (one line per event) or `pretty` (for a terminal; needs the dev dependencies). `./dev up` picks pretty in a terminal.',
  },
  LOCAL_STATE_DIR: {
    default: '.local',
    doc: 'Where the local stack keeps jars, binaries, data and logs (relative to the project root).',
  },
} as const satisfies Record<string, { default: string; doc: string }>;

export type ConfigOptionName = keyof typeof configOptions;

const wholeNumber = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number);

const port = (name: string) =>
  wholeNumber(name).pipe(z.number().min(1, `${name} must be between 1 and 65535`).max(65535, `${name} must be between 1 and 65535`));

const positive = (name: string) => wholeNumber(name).pipe(z.number().min(1, `${name} must be at least 1`));

const trueOrFalse = (name: string) => z.enum(['true', 'false'], { error: `${name} must be true or false` }).transform((v) => v === 'true');

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production'], { error: 'NODE_ENV must be development, test or production' }),
  GRAPHQL_INTROSPECTION: z.enum(['', 'true', 'false'], { error: 'GRAPHQL_INTROSPECTION must be true or false' }),
  DASHBOARD_ENABLED: z.enum(['', 'true', 'false'], { error: 'DASHBOARD_ENABLED must be true or false' }),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  JWT_MAX_LIFETIME_SECONDS: positive('JWT_MAX_LIFETIME_SECONDS'),
  JWT_CLOCK_SKEW_SECONDS: wholeNumber('JWT_CLOCK_SKEW_SECONDS').pipe(z.number().max(300, 'JWT_CLOCK_SKEW_SECONDS must be at most 300')),
  HOST: z.string().min(1, 'HOST must not be empty'),
  PORT: port('PORT'),
  HEALTH_PORT: wholeNumber('HEALTH_PORT').pipe(z.number().max(65535, 'HEALTH_PORT must be between 0 and 65535')),
  METRICS_LAG_INTERVAL_MS: wholeNumber('METRICS_LAG_INTERVAL_MS').pipe(z.number().min(100, 'METRICS_LAG_INTERVAL_MS must be at least 100').max(600_000, 'METRICS_LAG_INTERVAL_MS must be at most 600000')),
  TRACING_ENABLED: trueOrFalse('TRACING_ENABLED'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL'),
  OTEL_SERVICE_NAME: z.string(),
  TRACING_SAMPLE_RATIO: z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'TRACING_SAMPLE_RATIO must be a number from 0 to 1').transform(Number),
  SHUTDOWN_TIMEOUT_MS: wholeNumber('SHUTDOWN_TIMEOUT_MS').pipe(z.number().min(1000, 'SHUTDOWN_TIMEOUT_MS must be at least 1000').max(600_000, 'SHUTDOWN_TIMEOUT_MS must be at most 600000')),
  KAFKA_BROKERS: z.string(),
  KAFKA_PORT: port('KAFKA_PORT'),
  KAFKA_TOPIC_PARTITIONS: positive('KAFKA_TOPIC_PARTITIONS'),
  KAFKA_NAMESPACE: z.string().regex(/^[a-zA-Z0-9_-]*$/, 'KAFKA_NAMESPACE may hold only letters, digits, _ and -'),
  KAFKA_REPLICATION_FACTOR: positive('KAFKA_REPLICATION_FACTOR'),
  KAFKA_MIN_INSYNC_REPLICAS: positive('KAFKA_MIN_INSYNC_REPLICAS'),
  KAFKA_ALLOW_UNDER_REPLICATION: z.enum(['true', 'false'], { error: 'KAFKA_ALLOW_UNDER_REPLICATION must be true or false' }).transform((v) => v === 'true'),
  KAFKA_SSL: trueOrFalse('KAFKA_SSL'),
  KAFKA_SSL_CA_FILE: z.string(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: trueOrFalse('KAFKA_SSL_REJECT_UNAUTHORIZED'),
  KAFKA_SASL_MECHANISM: z.enum(['', 'plain', 'scram-sha-256', 'scram-sha-512'], { error: 'KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512' }),
  KAFKA_SASL_USERNAME: z.string(),
  KAFKA_SASL_PASSWORD: z.string(),
  KAFKA_SASL_PASSWORD_FILE: z.string(),
  PUBLISH_TIMEOUT_MS: wholeNumber('PUBLISH_TIMEOUT_MS').pipe(z.number().min(100, 'PUBLISH_TIMEOUT_MS must be at least 100').max(120_000, 'PUBLISH_TIMEOUT_MS must be at most 120000')),
  ORDER_DECISION_TIMEOUT_MS: wholeNumber('ORDER_DECISION_TIMEOUT_MS').pipe(z.number().min(100, 'ORDER_DECISION_TIMEOUT_MS must be at least 100').max(120_000, 'ORDER_DECISION_TIMEOUT_MS must be at most 120000')),
  CONSUMER_SESSION_TIMEOUT_MS: wholeNumber('CONSUMER_SESSION_TIMEOUT_MS').pipe(z.number().min(25_000, 'CONSUMER_SESSION_TIMEOUT_MS must be at least 25000 (above the 20 s SMTP and 10 s payment gateway call bounds)').max(300_000, 'CONSUMER_SESSION_TIMEOUT_MS must be at most 300000')),
  CONSUMER_RETRY_BUDGET_MS: positive('CONSUMER_RETRY_BUDGET_MS'),
  CONSUMER_RETRY_ATTEMPTS: positive('CONSUMER_RETRY_ATTEMPTS'),
  CONSUMER_RESTARTS_BEFORE_PARKING: positive('CONSUMER_RESTARTS_BEFORE_PARKING'),
  CONSUMER_STUCK_ROUND_MS: wholeNumber('CONSUMER_STUCK_ROUND_MS').pipe(z.number().min(60_000, 'CONSUMER_STUCK_ROUND_MS must be at least 60000')),
  DEAD_LETTER_BREAKER_LIMIT: positive('DEAD_LETTER_BREAKER_LIMIT'),
  DEAD_LETTER_BREAKER_WINDOW_MS: positive('DEAD_LETTER_BREAKER_WINDOW_MS'),
  MONGO_CLIENT_STUCK_MS: wholeNumber('MONGO_CLIENT_STUCK_MS').pipe(z.number().min(10_000, 'MONGO_CLIENT_STUCK_MS must be at least 10000')),
  MONGO_OPERATION_TIMEOUT_MS: wholeNumber('MONGO_OPERATION_TIMEOUT_MS').pipe(z.number().min(1000, 'MONGO_OPERATION_TIMEOUT_MS must be at least 1000')),
  MONGO_URL: z.string().refine((v) => v === '' || /^mongodb(\+srv)?:\/\//.test(v), 'MONGO_URL must start with mongodb://'),
  MONGO_PORT: port('MONGO_PORT'),
  // Bytes, not characters: HS256 wants a key of at least its 256-bit output.
  JWT_SECRET: z.string().refine((v) => v === '' || Buffer.byteLength(v, 'utf8') >= 32, 'JWT_SECRET must be at least 32 bytes'),
  SMTP_URL: z.string().refine((v) => v === '' || /^smtps?:\/\//.test(v), 'SMTP_URL must start with smtp:// or smtps://'),
  MAILPIT_SMTP_PORT: port('MAILPIT_SMTP_PORT'),
  MAILPIT_UI_PORT: port('MAILPIT_UI_PORT'),
  RATE_LIMIT_STORE: z.enum(['memory', 'mongo'], { error: 'RATE_LIMIT_STORE must be memory or mongo' }),
  RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: positive('RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE'),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: positive('RATE_LIMIT_ANONYMOUS_PER_MINUTE'),
  RATE_LIMIT_SOCKETS_PER_MINUTE: positive('RATE_LIMIT_SOCKETS_PER_MINUTE'),
  RATE_LIMIT_SUBSCRIBES_PER_MINUTE: positive('RATE_LIMIT_SUBSCRIBES_PER_MINUTE'),
  WS_MAX_SOCKETS_PER_USER: positive('WS_MAX_SOCKETS_PER_USER'),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positive('WS_MAX_SUBSCRIPTIONS_PER_SOCKET'),
  WS_MAX_BUFFERED_BYTES: wholeNumber('WS_MAX_BUFFERED_BYTES').pipe(z.number().min(1024, 'WS_MAX_BUFFERED_BYTES must be at least 1024')),
  TRUST_PROXY_HOPS: wholeNumber('TRUST_PROXY_HOPS').pipe(z.number().max(10, 'TRUST_PROXY_HOPS must be at most 10')),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], {
    error: 'LOG_LEVEL must be fatal, error, warn, info, debug or trace',
  }),
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'LOG_FORMAT must be json or pretty' }),
  LOCAL_STATE_DIR: z.string().min(1),
});

export interface KafkaSasl {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

export interface Config {
  readonly nodeEnv: 'development' | 'test' | 'production';
  /** `healthPort`: a consumer process's probe listener (0: any free port). */
  readonly http: { readonly host: string; readonly port: number; readonly healthPort: number };
  /**
   * OpenTelemetry traces (src/tracing): off unless `enabled`; `endpoint` is the OTLP/HTTP base
   * URL, `serviceName` overrides the process's own, `sampleRatio` is the share of new traces kept.
   */
  readonly tracing: { readonly enabled: boolean; readonly endpoint: string; readonly serviceName: string | undefined; readonly sampleRatio: number };
  /** After SIGTERM every process exits within this, whatever its dependencies do. */
  readonly shutdownTimeoutMs: number;
  /** How often a consumer process refreshes its group's lag for /metrics. */
  readonly metrics: { readonly lagIntervalMs: number };
  readonly kafka: {
    readonly brokers: readonly string[];
    /** True when KAFKA_BROKERS was set: the local stack must not start a broker. */
    readonly external: boolean;
    readonly localPort: number;
    /** Prefix of every topic and consumer group; '' for none. */
    readonly namespace: string;
    readonly topicPartitions: number;
    readonly replicationFactor: number;
    readonly minInsyncReplicas: number;
    /** Production demands replication (factor ≥ 3, min ISR ≥ 2) unless this says otherwise; existing topics are held to it too. */
    readonly durabilityRequired: boolean;
    /** TLS to the brokers (KAFKA_SSL); `ca` is the PEM text of KAFKA_SSL_CA_FILE. Passed to kafkajs by kafka/client.ts. */
    readonly ssl: { readonly ca: string | undefined; readonly rejectUnauthorized: boolean } | undefined;
    /** SASL credentials; the password never goes to a log. */
    readonly sasl: KafkaSasl | undefined;
    /** How long placeOrder waits for Kafka's acknowledgement. */
    readonly publishTimeoutMs: number;
    /** How long cancelOrder/advanceOrder wait for the order authority's decision. */
    readonly decisionTimeoutMs: number;
  };
  /** How the shared consumer runner treats failures (kafka/consumer-runner.ts). */
  readonly consumers: {
    readonly sessionTimeoutMs: number;
    /** Retriable failures of one message: retried this long / this often, then parked. */
    readonly retryBudgetMs: number;
    readonly retryAttempts: number;
    /** Restarts in a row at one message before it is parked. */
    readonly restartsBeforeParking: number;
    /** A round this long in one self-bounded step (load, persist) stops the process (round-watchdog.ts). */
    readonly stuckRoundMs: number;
    /** More than `limit` dead letters within `windowMs` stop the consumer. */
    readonly deadLetterBreaker: { readonly limit: number; readonly windowMs: number };
  };
  readonly mongo: {
    readonly url: string;
    /** Bound of one operation's wait for the server (below the consumer session timeout). */
    readonly operationTimeoutMs: number;
    /** Nothing reached the store this long while it answers others: the client is wedged (mongo/store-watch.ts). */
    readonly clientStuckMs: number;
    /** True when MONGO_URL was set: the local stack must not start FerretDB. */
    readonly external: boolean;
    readonly localPort: number;
  };
  /** Undefined in development when unset: the API then generates one per start. */
  readonly jwtSecret: string | undefined;
  /** What an access token must carry besides a valid signature (src/auth/access-token.ts). */
  readonly tokens: { readonly issuer: string; readonly audience: string; readonly maxLifetimeSeconds: number; readonly clockSkewSeconds: number };
  /** Introspection and GraphiQL (GraphiQL needs introspection): off in production unless GRAPHQL_INTROSPECTION=true. */
  readonly graphql: { readonly introspection: boolean; readonly graphiql: boolean };
  /** The operations dashboard at /dashboard: off in production unless DASHBOARD_ENABLED=true. */
  readonly dashboard: { readonly enabled: boolean };
  /**
   * Demo tokens printed at start, signed with a secret generated for that start: only in
   * development and only when no JWT_SECRET was given, so no token is ever signed with an
   * operator's secret. The one place that decides development conveniences.
   */
  readonly demoTokens: boolean;
  readonly smtpUrl: string | undefined;
  /** The local Mailpit's ports (used only when smtpUrl is unset and the devstack starts it). */
  readonly mailpit: { readonly smtpPort: number; readonly uiPort: number };
  /** Rate limits (per minute) and WebSocket caps; see src/rate-limits/. */
  readonly limits: {
    readonly store: 'memory' | 'mongo';
    readonly orderMutationsPerMinute: number;
    readonly anonymousPerMinute: number;
    readonly socketsPerMinute: number;
    readonly subscribesPerMinute: number;
    readonly maxSocketsPerUser: number;
    readonly maxSubscriptionsPerSocket: number;
    readonly maxBufferedBytes: number;
    /** X-Forwarded-For entries trusted, counted from the right; 0: the connection's own address. */
    readonly trustProxyHops: number;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly logFormat: 'json' | 'pretty';
  readonly localStateDir: string;
}

export class ConfigError extends AppError {
  constructor(readonly problems: readonly string[]) {
    super('INVALID_CONFIG', `Invalid configuration: ${problems.join('; ')}`);
  }
}

/** Parses the environment once; throws ConfigError listing every problem at the same time. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(
    Object.entries(configOptions).map(([name, option]) => [name, (env[name] ?? '').trim() || option.default]),
  );
  // Every problem is reported at once: field checks and the checks across fields alike.
  const parsed = environmentSchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  if (raw.NODE_ENV === 'production' && raw.JWT_SECRET === '') problems.push('JWT_SECRET is required when NODE_ENV=production');
  if (Number(raw.KAFKA_MIN_INSYNC_REPLICAS) > Number(raw.KAFKA_REPLICATION_FACTOR)) {
    problems.push('KAFKA_MIN_INSYNC_REPLICAS cannot exceed KAFKA_REPLICATION_FACTOR');
  }
  if (Number(raw.MONGO_OPERATION_TIMEOUT_MS) >= Number(raw.CONSUMER_SESSION_TIMEOUT_MS)) {
    problems.push('MONGO_OPERATION_TIMEOUT_MS must be below CONSUMER_SESSION_TIMEOUT_MS: a consumer waiting on MongoDB would lose its partitions');
  }
  if (Number(raw.CONSUMER_STUCK_ROUND_MS) <= 4 * Number(raw.MONGO_OPERATION_TIMEOUT_MS)) {
    problems.push('CONSUMER_STUCK_ROUND_MS must be above 4 × MONGO_OPERATION_TIMEOUT_MS: a round that persists makes several store calls in a row, each bounded by it');
  }
  if (raw.NODE_ENV === 'production' && raw.KAFKA_ALLOW_UNDER_REPLICATION !== 'true') {
    const why = 'in production an acknowledged order must survive the loss of a broker (KAFKA_ALLOW_UNDER_REPLICATION=true allows less, for a single-broker demo)';
    if (Number(raw.KAFKA_REPLICATION_FACTOR) < 3) problems.push(`KAFKA_REPLICATION_FACTOR is ${raw.KAFKA_REPLICATION_FACTOR} but must be at least 3: ${why}`);
    if (Number(raw.KAFKA_MIN_INSYNC_REPLICAS) < 2) problems.push(`KAFKA_MIN_INSYNC_REPLICAS is ${raw.KAFKA_MIN_INSYNC_REPLICAS} but must be at least 2: ${why}`);
  }
  const kafkaSecurity = kafkaSecurityOf(raw, problems);
  const brokers = (raw.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  for (const broker of brokers) {
    const brokerPort = Number(/^[^\s:]+:(\d{1,5})$/.exec(broker)?.[1]);
    if (!(brokerPort >= 1 && brokerPort <= 65535)) problems.push(`KAFKA_BROKERS entry "${broker}" must look like host:port`);
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const introspection = e.GRAPHQL_INTROSPECTION === '' ? e.NODE_ENV !== 'production' : e.GRAPHQL_INTROSPECTION === 'true';

  return {
    nodeEnv: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, healthPort: e.HEALTH_PORT },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    tracing: { enabled: e.TRACING_ENABLED, endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, ''), serviceName: e.OTEL_SERVICE_NAME || undefined, sampleRatio: e.TRACING_SAMPLE_RATIO },
    metrics: { lagIntervalMs: e.METRICS_LAG_INTERVAL_MS },
    kafka: {
      brokers: brokers.length > 0 ? brokers : [`127.0.0.1:${e.KAFKA_PORT}`],
      external: brokers.length > 0,
      localPort: e.KAFKA_PORT,
      namespace: e.KAFKA_NAMESPACE,
      topicPartitions: e.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: e.KAFKA_REPLICATION_FACTOR,
      minInsyncReplicas: e.KAFKA_MIN_INSYNC_REPLICAS,
      durabilityRequired: e.NODE_ENV === 'production' && !e.KAFKA_ALLOW_UNDER_REPLICATION,
      ...kafkaSecurity,
      publishTimeoutMs: e.PUBLISH_TIMEOUT_MS,
      decisionTimeoutMs: e.ORDER_DECISION_TIMEOUT_MS,
    },
    consumers: {
      sessionTimeoutMs: e.CONSUMER_SESSION_TIMEOUT_MS,
      retryBudgetMs: e.CONSUMER_RETRY_BUDGET_MS,
      retryAttempts: e.CONSUMER_RETRY_ATTEMPTS,
      restartsBeforeParking: e.CONSUMER_RESTARTS_BEFORE_PARKING,
      stuckRoundMs: e.CONSUMER_STUCK_ROUND_MS,
      deadLetterBreaker: { limit: e.DEAD_LETTER_BREAKER_LIMIT, windowMs: e.DEAD_LETTER_BREAKER_WINDOW_MS },
    },
    mongo: {
      operationTimeoutMs: e.MONGO_OPERATION_TIMEOUT_MS,
      clientStuckMs: e.MONGO_CLIENT_STUCK_MS,
      url: e.MONGO_URL || `mongodb://127.0.0.1:${e.MONGO_PORT}/food-ordering`,
      external: e.MONGO_URL !== '',
      localPort: e.MONGO_PORT,
    },
    jwtSecret: e.JWT_SECRET || undefined,
    tokens: { issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, maxLifetimeSeconds: e.JWT_MAX_LIFETIME_SECONDS, clockSkewSeconds: e.JWT_CLOCK_SKEW_SECONDS },
    graphql: { introspection, graphiql: introspection },
    dashboard: { enabled: e.DASHBOARD_ENABLED === '' ? e.NODE_ENV !== 'production' : e.DASHBOARD_ENABLED === 'true' },
    demoTokens: e.NODE_ENV === 'development' && e.JWT_SECRET === '',
    smtpUrl: e.SMTP_URL || undefined,
    mailpit: { smtpPort: e.MAILPIT_SMTP_PORT, uiPort: e.MAILPIT_UI_PORT },
    limits: {
      store: e.RATE_LIMIT_STORE,
      orderMutationsPerMinute: e.RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE,
      anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      socketsPerMinute: e.RATE_LIMIT_SOCKETS_PER_MINUTE,
      subscribesPerMinute: e.RATE_LIMIT_SUBSCRIBES_PER_MINUTE,
      maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
      maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      trustProxyHops: e.TRUST_PROXY_HOPS,
    },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    localStateDir: e.LOCAL_STATE_DIR,
  };
}

/**
 * TLS and SASL settings for kafkajs, with every problem added to `problems`. Files (the CA, the
 * password) are read here, once, so a missing one is reported at start with the rest.
 */
function kafkaSecurityOf(raw: Record<string, string>, problems: string[]): Pick<Config['kafka'], 'ssl' | 'sasl'> {
  const readSecretFile = (name: string): string | undefined => {
    try {
      return readFileSync(raw[name]!, 'utf8');
    } catch (error) {
      problems.push(`${name} cannot be read: ${(error as Error).message}`);
      return undefined;
    }
  };
  const production = raw.NODE_ENV === 'production';
  const ssl = raw.KAFKA_SSL === 'true';
  const mechanism = raw.KAFKA_SASL_MECHANISM ?? '';
  if ((ssl || mechanism !== '') && (raw.KAFKA_BROKERS ?? '') === '') {
    problems.push('KAFKA_SSL and KAFKA_SASL_MECHANISM need KAFKA_BROKERS: the local broker started without it listens in plaintext');
  }
  if (!ssl && raw.KAFKA_SSL_CA_FILE) problems.push('KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true');
  if (production && raw.KAFKA_SSL_REJECT_UNAUTHORIZED === 'false') {
    problems.push('KAFKA_SSL_REJECT_UNAUTHORIZED=false is refused in production: an unverified broker could collect the SASL password');
  }
  if (production && mechanism === 'plain' && !ssl) {
    problems.push('KAFKA_SASL_MECHANISM=plain without KAFKA_SSL=true is refused in production: the password would cross the network in clear');
  }
  const tls = ssl
    ? { ca: raw.KAFKA_SSL_CA_FILE ? readSecretFile('KAFKA_SSL_CA_FILE') : undefined, rejectUnauthorized: raw.KAFKA_SSL_REJECT_UNAUTHORIZED !== 'false' }
    : undefined;

  if (raw.KAFKA_SASL_PASSWORD && raw.KAFKA_SASL_PASSWORD_FILE) problems.push('set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both');
  if (mechanism === '') {
    if (raw.KAFKA_SASL_USERNAME || raw.KAFKA_SASL_PASSWORD || raw.KAFKA_SASL_PASSWORD_FILE) {
      problems.push('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD(_FILE) need KAFKA_SASL_MECHANISM');
    }
    return { ssl: tls, sasl: undefined };
  }
  const password = raw.KAFKA_SASL_PASSWORD_FILE ? readSecretFile('KAFKA_SASL_PASSWORD_FILE')?.replace(/\r?\n$/, '') : raw.KAFKA_SASL_PASSWORD;
  if (!raw.KAFKA_SASL_USERNAME) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME`);
  if (!raw.KAFKA_SASL_PASSWORD && !raw.KAFKA_SASL_PASSWORD_FILE) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE`);
  return {
    ssl: tls,
    sasl: { mechanism: mechanism as KafkaSasl['mechanism'], username: raw.KAFKA_SASL_USERNAME ?? '', password: password ?? '' },
  };
}
