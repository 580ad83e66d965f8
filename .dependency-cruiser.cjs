/**
 * Layer rules, checked in the test run (test/architecture.test.ts, on the checker's exit code):
 * the functional core in src/domain stays free of frameworks and I/O; every folder imports only
 * from its own rung and the rungs below it; consumers and the GraphQL side never import each
 * other; nothing in src/ reaches into dev tooling.
 */

/**
 * The rungs of src/, bottom first. A folder (or top-level file) may import from its own rung
 * and any rung below, never from one above. The entry points (src/api.ts; each consumer's
 * src/consumers/<name>.ts) sit on their folder's rung or above, and nothing imports them.
 */
const RUNGS = [
  ['config', 'errors', 'logger', 'retry', 'micro-batch', 'metrics', 'tracing'], // facts every part shares (metrics: the process's Prometheus registry, fed from every rung; tracing: its OpenTelemetry tracer and the trace context in Kafka headers)
  ['domain', 'auth'], // pure decisions, identity
  ['events', 'mongo'], // the event and storage schemas
  ['kafka', 'subscriptions', 'payments', 'email', 'catalog', 'probes', 'rate-limits'], // adapters around them (probes: every process's /livez and /readyz; rate-limits: the API's budgets, in memory or MongoDB)
  ['consumers', 'schema'], // the consumer modules; the GraphQL types
  ['resolvers', 'ops'], // the GraphQL operations; operators' tools (dead-letter redrive, replay)
  ['http'], // the API server: schema building, HTTP and WebSocket
  ['api'], // the API's entry point
];

const folderPattern = (names) => `^src/(${names.join('|')})(/|\\.ts$)`;

const upwardImports = RUNGS.slice(0, -1).map((rung, i) => ({
  name: `no-upward-import-from-${rung.join('-')}`,
  comment: `${rung.join(', ')} may import only from their rung or below: not from ${RUNGS.slice(i + 1).flat().join(', ')}.`,
  severity: 'error',
  from: { path: folderPattern(rung) },
  to: { path: folderPattern(RUNGS.slice(i + 1).flat()) },
}));

const IO_PACKAGES = 'node_modules/(graphql|graphql-ws|type-graphql|@apollo|express|ws|kafkajs|graphql-kafkajs-subscriptions|mongoose|mongodb|nodemailer|jose|pino)($|/)';

module.exports = {
  forbidden: [
    ...upwardImports,
    {
      name: 'consumers-are-not-graphql',
      comment: 'the consumer modules never import the GraphQL side (schema, resolvers, http), so they run without it.',
      severity: 'error',
      from: { path: '^src/consumers/' },
      to: { path: folderPattern(['schema', 'resolvers', 'http', 'api']) },
    },
    {
      name: 'graphql-is-not-consumers',
      comment: 'the GraphQL side never imports a consumer module: it talks to them through Kafka only.',
      severity: 'error',
      from: { path: folderPattern(['schema', 'resolvers', 'http', 'api']) },
      to: { path: '^src/consumers/' },
    },
    {
      name: 'every-folder-has-a-rung',
      comment: 'a new folder in src/ must be given its rung in RUNGS (or be dev tooling).',
      severity: 'error',
      from: { path: '^src/', pathNot: `${folderPattern(RUNGS.flat())}|^src/devstack/` },
      to: {},
    },
    {
      name: 'domain-is-pure',
      comment: 'src/domain holds decisions only: no GraphQL, Kafka, Mongo, HTTP, mail or logging.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg'], path: IO_PACKAGES },
    },
    {
      name: 'domain-has-no-adapters',
      comment: 'src/domain may use src/errors.ts and itself, never the adapters around it.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/(domain/|errors\\.ts$)' },
    },
    {
      name: 'domain-no-node-io',
      comment: 'no network, file or process access from decisions.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(net|http|https|fs|child_process|dgram|tls)$' },
    },
    {
      name: 'product-does-not-use-devstack',
      comment: 'the local stack starts services for developers and tests; the product never depends on it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/devstack/' },
      to: { path: '^src/devstack/' },
    },
    {
      name: 'product-does-not-use-tests',
      comment: 'src/ never imports test or benchmark code (fixtures for the specs beside the code are src/**/*.fixture.ts).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'test-support-scope',
      comment: "test/support/ (the tests' harness) uses src/, the generated GraphQL client code and itself: never a test or a benchmark.",
      severity: 'error',
      from: { path: '^test/support/' },
      to: { path: '^(bench/|test/(?!support/|generated/))' },
    },
    {
      name: 'bench-support-scope',
      comment: "bench/support/ (the benchmarks' and drills' process helpers) uses src/, test/support/ and itself: never a benchmark or a test.",
      severity: 'error',
      from: { path: '^bench/support/' },
      to: { path: '^(bench/(?!support/)|test/(?!support/))' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '\\.test\\.ts$' },
  },
};

// For test/architecture.test.ts (the README's layout table must agree); not enumerable, since
// dependency-cruiser refuses unknown keys in its configuration.
Object.defineProperty(module.exports, 'RUNGS', { value: RUNGS, enumerable: false });
