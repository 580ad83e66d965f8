/**
 * Layer rules, checked in the test run (test/architecture.test.ts): the functional core in
 * src/domain stays free of frameworks and I/O; nothing in src/ reaches into dev tooling.
 */
const IO_PACKAGES = 'node_modules/(graphql|graphql-ws|type-graphql|@apollo|express|ws|kafkajs|graphql-kafkajs-subscriptions|mongoose|mongodb|nodemailer|jose|pino)($|/)';

module.exports = {
  forbidden: [
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
