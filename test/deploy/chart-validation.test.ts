import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  helmTemplate,
  kubernetesVersion,
  manifestsOf,
  objectsOf,
  ofKind,
  PRODUCTION_EXAMPLE,
  render,
  requireTools,
  skipChartTests,
  tools,
  validate,
  type KubeObject,
} from './support/chart';

/**
 * The chart renders (Helm, built from its Go module by ./dev install) and every object it
 * renders passes kube-validate: strict decoding into Kubernetes' own API types, and the KEDA and
 * Strimzi CRD schemas in deploy/schemas. Misspelled fields must fail it: otherwise a typo in a
 * probe or a limit would be dropped silently by the API server.
 */

/** The installations the chart must render for: its defaults, the production example, and Strimzi with a namespace and an operator's SASL Secret. */
const VARIANTS = {
  defaults: {},
  'production example': { valuesFiles: [PRODUCTION_EXAMPLE] },
  'Strimzi with KAFKA_NAMESPACE and an existing SASL secret': {
    set: { 'kafka.namespace': 'stage', 'kafka.sasl.existingSecret': 'kafka-password', 'smtp.url': 'smtp://mail.internal:25', 'consumers.modules.analytics.minReplicas': '0' },
  },
} as const;

describe.skipIf(skipChartTests)('the Helm chart validates strictly against Kubernetes and the CRDs', () => {
  const rendered: Record<string, string> = {};
  beforeAll(() => {
    requireTools();
    for (const [name, options] of Object.entries(VARIANTS)) rendered[name] = render(options);
  });

  it('validates against the pinned Kubernetes version, the one Helm renders for', () => {
    expect(kubernetesVersion()).toMatch(/^v1\.37\.\d+$/);
    const goMod = readFileSync(join(tools.source, 'go.mod'), 'utf8');
    expect(goMod).toMatch(/^\s*helm\.sh\/helm\/v3 v3\.22\.0\b/m);
    expect(goMod).toMatch(/^\s*k8s\.io\/client-go v0\.37\.\d+\b/m);
  });

  for (const variant of Object.keys(VARIANTS)) {
    it(`renders and validates: ${variant}`, () => {
      const objects = objectsOf(rendered[variant]!);
      expect(objects.length).toBeGreaterThan(20);
      const result = validate(rendered[variant]!);
      expect(result.stdout + result.stderr, 'kube-validate report').toMatch(new RegExp(`^${objects.length} objects, 0 invalid`, 'm'));
      expect(result.status).toBe(0);
    });
  }

  it('has a CRD for every custom resource it renders, from the packages deploy/schemas/VERSIONS names', () => {
    const kinds = new Set(Object.values(rendered).flatMap((text) => objectsOf(text).filter((o) => !/^(v1|apps\/v1|policy\/v1|autoscaling\/v2|networking\.k8s\.io\/v1)$/.test(o.apiVersion)).map((o) => `${o.apiVersion} ${o.kind}`)));
    expect([...kinds].sort()).toEqual([
      'kafka.strimzi.io/v1 Kafka',
      'kafka.strimzi.io/v1 KafkaNodePool',
      'kafka.strimzi.io/v1 KafkaTopic',
      'kafka.strimzi.io/v1 KafkaUser',
      'keda.sh/v1alpha1 ScaledObject',
      'keda.sh/v1alpha1 TriggerAuthentication',
    ]);
    const versions = readFileSync(join(tools.crds, 'VERSIONS'), 'utf8');
    expect(versions).toMatch(/^keda\s+github\.com\/kedacore\/keda\/v2 v2\.\d+\.\d+ /m);
    expect(versions).toMatch(/^strimzi\s+io\.strimzi:api \d+\.\d+\.\d+ /m);
    // The validator's own count: six kinds, each from one of those files.
    expect(validate(rendered.defaults!).stdout).toMatch(/; 6 CRD kinds\)$/m);
  });

  describe('a misspelled or unknown field fails validation', () => {
    /** The default rendering with one key of the first object of `kind` renamed, at `path`. */
    const misspell = (kind: string, path: readonly string[], from: string, to: string): string => {
      const objects = objectsOf(rendered.defaults!);
      const target = objects.find((o) => o.kind === kind);
      if (!target) throw new Error(`no ${kind} rendered`);
      let node = target as unknown as Record<string, unknown>;
      for (const key of path) node = (Array.isArray(node) ? node[Number(key)] : node[key]) as Record<string, unknown>;
      if (!(from in node)) throw new Error(`${kind} has no ${[...path, from].join('.')}`);
      node[to] = node[from];
      delete node[from];
      return manifestsOf(objects);
    };

    const cases: [string, string[], string, string][] = [
      ['Deployment', ['spec', 'template', 'spec', 'containers', '0'], 'readinessProbe', 'readinesProbe'],
      ['Deployment', ['spec', 'template', 'spec', 'containers', '0', 'resources'], 'limits', 'limit'],
      ['Service', ['spec'], 'selector', 'selectors'],
      ['NetworkPolicy', ['spec'], 'podSelector', 'podSelecter'],
      ['HorizontalPodAutoscaler', ['spec'], 'maxReplicas', 'maxReplica'],
      ['ScaledObject', ['spec'], 'maxReplicaCount', 'maxReplicasCount'],
      ['ScaledObject', ['spec', 'triggers', '0'], 'authenticationRef', 'authRef'],
      ['KafkaTopic', ['spec'], 'partitions', 'partition'],
      ['Kafka', ['spec', 'kafka', 'listeners', '0'], 'authentication', 'authenticaton'],
      ['KafkaNodePool', ['spec'], 'roles', 'role'],
      ['Deployment', ['metadata'], 'labels', 'lables'],
    ];
    for (const [kind, path, from, to] of cases) {
      it(`${kind}: ${[...path, to].join('.')}`, () => {
        const result = validate(misspell(kind, path, from, to));
        expect(result.status, result.stdout).toBe(1);
        expect(result.stdout).toMatch(/^\d+ objects, 1 invalid/m);
        expect(result.stdout).toContain(to);
      });
    }

    it('a value of the wrong type, and a kind neither Kubernetes nor a CRD defines', () => {
      const objects = objectsOf(rendered.defaults!);
      const hpa = ofKind(objects, 'HorizontalPodAutoscaler')[0]!;
      hpa.spec.maxReplicas = 'ten';
      const unknown: KubeObject = { apiVersion: 'example.com/v1', kind: 'Pizza', metadata: { name: 'margherita' }, spec: {} };
      const result = validate(manifestsOf([...objects, unknown]));
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/^\d+ objects, 2 invalid/m);
      expect(result.stdout).toMatch(/cannot unmarshal string into Go struct field .*maxReplicas/);
      expect(result.stdout).toContain('example.com/v1, Kind=Pizza is not a kind of Kubernetes');
    });
  });

  it('refuses values that would deploy something broken, naming the setting', () => {
    const refusals: [Record<string, string>, RegExp][] = [
      [{ 'consumers.modules.transactions.maxReplicas': '7' }, /consumers\.modules\.transactions\.maxReplicas \(7\) exceeds kafka\.topicPartitions \(6\)/],
      [{ 'consumers.modules.transactions.minReplicas': '0' }, /consumers\.modules\.transactions\.minReplicas must be at least 1/],
      [{ 'config.JWT_SECRET': 'in-plain-values' }, /config\.JWT_SECRET is set by the chart itself \(or is a secret\)/],
      [{ 'config.KAFKA_SASL_PASSWORD': 'in-plain-values' }, /config\.KAFKA_SASL_PASSWORD is set by the chart itself/],
      [{ 'kafka.strimzi.enabled': 'false', 'kafka.bootstrapServers': 'b:9092', 'kafka.sasl.mechanism': 'scram-sha-512', 'kafka.sasl.username': 'u' }, /kafka\.sasl\.mechanism needs kafka\.sasl\.username and kafka\.sasl\.existingSecret/],
      [{ 'kafka.strimzi.enabled': 'false' }, /kafka\.bootstrapServers is required/],
      [{ 'kafka.strimzi.enabled': 'false', 'kafka.bootstrapServers': 'b:9092', 'kafka.sasl.mechanism': 'plain', 'kafka.sasl.username': 'u', 'kafka.sasl.existingSecret': 's' }, /kafka\.sasl\.mechanism plain needs kafka\.tls\.enabled/],
      [{ 'kafka.strimzi.replicas': '2' }, /kafka\.strimzi\.replicas \(2\) is below kafka\.replicationFactor \(3\)/],
    ];
    for (const [set, message] of refusals) {
      const result = helmTemplate({ set });
      expect(result.status, JSON.stringify(set)).not.toBe(0);
      expect(result.stderr, JSON.stringify(set)).toMatch(message);
    }
  });
});
