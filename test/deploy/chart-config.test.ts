import { beforeAll, describe, expect, it } from 'vitest';
import { configOptions, loadConfig } from '../../src/config';
import { CONSUMER_MODULE_NAMES, CONSUMER_MODULES } from '../../src/consumers/modules';
import { physicalGroupId, physicalTopic, topicSpecs } from '../../src/events/topics';
import { appServices, commandOf, environmentOf } from '../support/compose-file';
import {
  containerOf,
  named,
  objectsOf,
  ofKind,
  PRODUCTION_EXAMPLE,
  render,
  requireTools,
  resolvedEnvironment,
  skipChartTests,
  type KubeObject,
} from './support/chart';

/**
 * What the chart deploys agrees with the product: the processes docker-compose.yml runs, each
 * with an environment src/config.ts accepts (every required variable set, no unknown one), the
 * probes and shutdown bound of src/probes and src/config.ts, one KEDA scaler per topic each
 * consumer module reads, capped by the partitions, and the topics src/events/topics.ts creates.
 */

/** What docker-compose.yml sets that the chart deliberately does not (for the processes named, or all), and why. */
const COMPOSE_ONLY: Readonly<Record<string, { readonly why: string; readonly processes?: readonly string[]; readonly installations?: readonly string[] }>> = {
  KAFKA_ALLOW_UNDER_REPLICATION: { why: 'compose runs one broker; the chart\'s Kafka is replicated (3 brokers, min ISR 2)' },
  LOG_LEVEL: { why: 'the default (info); the chart passes it through `config` when an operator sets it' },
  HEALTH_PORT: { why: 'compose\'s shared environment gives it to the API too, which serves its probes on PORT', processes: ['api'] },
  SMTP_URL: { why: 'compose brings its own Mailpit; the chart\'s defaults name no mail server (NOTES warns that emails are only logged)', installations: ['defaults'] },
};
const composeOnly = (name: string, process: string, installation: string) => {
  const exception = COMPOSE_ONLY[name];
  return exception !== undefined && (exception.processes?.includes(process) ?? true) && (exception.installations?.includes(installation) ?? true);
};

const FULLNAME = 'food-ordering';
const deploymentName = (process: string) => `${FULLNAME}-${process}`;

const installations = {
  defaults: {},
  'production example': { valuesFiles: [PRODUCTION_EXAMPLE] },
} as const;

describe.skipIf(skipChartTests)('the Helm chart agrees with the configuration module and docker-compose.yml', () => {
  const objects: Record<string, KubeObject[]> = {};
  beforeAll(() => {
    requireTools();
    for (const [name, options] of Object.entries(installations)) objects[name] = objectsOf(render(options));
  });

  for (const installation of Object.keys(installations)) {
    describe(installation, () => {
      const all = () => objects[installation]!;
      const deployment = (process: string) => named(all(), 'Deployment', deploymentName(process));

      it('runs every process docker-compose.yml runs, with the same command, and nothing else', () => {
        expect(appServices.sort()).toEqual(['api', ...CONSUMER_MODULE_NAMES].sort());
        expect(ofKind(all(), 'Deployment').map((d) => d.metadata.name).sort()).toEqual(appServices.map(deploymentName).sort());
        for (const process of appServices) expect(containerOf(deployment(process)).command, process).toEqual(commandOf(process));
      });

      it('sets only variables src/config.ts knows, each once', () => {
        for (const process of appServices) {
          const names = (containerOf(deployment(process)).env ?? []).map((v) => v.name);
          expect(names.filter((n) => !(n in configOptions)), process).toEqual([]);
          expect(new Set(names).size, process).toBe(names.length);
        }
      });

      it('gives every process an environment loadConfig accepts: production, external Kafka and MongoDB, replicated topics', () => {
        for (const process of appServices) {
          const config = loadConfig(resolvedEnvironment(deployment(process)));
          expect(config.nodeEnv, process).toBe('production');
          expect(config.kafka.external, process).toBe(true);
          expect(config.mongo.external, process).toBe(true);
          expect(config.kafka.durabilityRequired, process).toBe(true);
          expect(config.kafka.replicationFactor, process).toBeGreaterThanOrEqual(3);
          expect(config.kafka.minInsyncReplicas, process).toBeGreaterThanOrEqual(2);
          expect(config.kafka.ssl, `${process}: Kafka over TLS`).toBeDefined();
          expect(config.kafka.sasl?.mechanism, `${process}: Kafka with a password`).toMatch(/^scram-sha-/);
        }
        expect(loadConfig(resolvedEnvironment(deployment('confirmations'))).smtpUrl ?? '', 'confirmations').toMatch(installation === 'defaults' ? /^$/ : /^smtps?:\/\//);
      });

      it('sets every variable docker-compose.yml gives the same process, but those it sets for a single broker', () => {
        for (const process of appServices) {
          const chart = new Set((containerOf(deployment(process)).env ?? []).map((v) => v.name));
          const missing = Object.keys(environmentOf(process)).filter((name) => !chart.has(name) && !composeOnly(name, process, installation));
          expect(missing, process).toEqual([]);
        }
      });

      it('takes JWT_SECRET, MONGO_URL and the Kafka password from Secrets, never from values, and renders no Secret', () => {
        expect(ofKind(all(), 'Secret')).toEqual([]);
        for (const process of appServices) {
          const env = containerOf(deployment(process)).env ?? [];
          for (const name of ['JWT_SECRET', 'MONGO_URL']) expect(env.find((v) => v.name === name)?.valueFrom?.secretKeyRef, `${process}: ${name}`).toBeDefined();
          expect(env.find((v) => v.name === 'KAFKA_SASL_PASSWORD'), process).toBeUndefined();
          const passwordFile = env.find((v) => v.name === 'KAFKA_SASL_PASSWORD_FILE')?.value ?? '';
          const pod = deployment(process).spec.template.spec;
          const mount = containerOf(deployment(process)).volumeMounts?.find((m) => passwordFile.startsWith(`${m.mountPath}/`));
          expect(pod.volumes.find((v: { name: string }) => v.name === mount?.name)?.secret, `${process}: the SASL password is a file from a Secret`).toBeDefined();
          for (const v of env) if (v.value !== undefined) expect(v.value, `${process}: ${v.name}`).not.toMatch(/:\/\/[^/@]*:[^/@]*@/);
        }
      });

      it('probes /livez and /readyz on the API\'s PORT and each consumer\'s HEALTH_PORT', () => {
        for (const process of appServices) {
          const container = containerOf(deployment(process));
          const env = Object.fromEntries((container.env ?? []).map((v) => [v.name, v.value]));
          const port = process === 'api' ? env.PORT : env.HEALTH_PORT;
          expect(port, process).toMatch(/^\d+$/);
          const named = (p: string | number | undefined) => container.ports?.find((cp) => cp.name === p || cp.containerPort === p)?.containerPort;
          expect(container.livenessProbe?.httpGet?.path, process).toBe('/livez');
          expect(container.readinessProbe?.httpGet?.path, process).toBe('/readyz');
          expect(named(container.livenessProbe?.httpGet?.port), process).toBe(Number(port));
          expect(named(container.readinessProbe?.httpGet?.port), process).toBe(Number(port));
        }
      });

      it('gives every pod a termination grace period above its shutdown bound (SHUTDOWN_TIMEOUT_MS), by a few seconds', () => {
        for (const process of appServices) {
          const config = loadConfig(resolvedEnvironment(deployment(process)));
          const grace = deployment(process).spec.template.spec.terminationGracePeriodSeconds as number;
          expect(grace * 1000, process).toBeGreaterThan(config.shutdownTimeoutMs);
          expect(grace * 1000, process).toBeLessThanOrEqual(config.shutdownTimeoutMs + 10_000);
        }
      });

      it('sets CPU and memory requests and limits on every container', () => {
        for (const d of ofKind(all(), 'Deployment')) {
          for (const c of d.spec.template.spec.containers as ReturnType<typeof containerOf>[]) {
            for (const kind of ['requests', 'limits'] as const) expect(Object.keys(c.resources?.[kind] ?? {}).sort(), `${d.metadata.name} ${kind}`).toEqual(['cpu', 'memory']);
          }
        }
      });

      it('serves the API through a Service, a PodDisruptionBudget and an HPA that select its pods only', () => {
        const api = deployment('api');
        const podLabels = api.spec.template.metadata.labels as Record<string, string>;
        const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
        const service = named(all(), 'Service', deploymentName('api'));
        expect(selects(service.spec.selector, podLabels)).toBe(true);
        expect(selects(named(all(), 'PodDisruptionBudget', deploymentName('api')).spec.selector.matchLabels, podLabels)).toBe(true);
        for (const module of CONSUMER_MODULE_NAMES) {
          const consumerLabels = deployment(module).spec.template.metadata.labels as Record<string, string>;
          expect(selects(service.spec.selector, consumerLabels), module).toBe(false);
        }
        const hpa = named(all(), 'HorizontalPodAutoscaler', deploymentName('api'));
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName('api') });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        // The HPA owns the count: a replicas field would reset it at every upgrade.
        expect(api.spec.replicas).toBeUndefined();
      });

      it('scales each consumer module with KEDA on its own group\'s lag, one trigger per topic it reads, never past the partitions', () => {
        const config = loadConfig(resolvedEnvironment(deployment('transactions')));
        const scaledObjects = ofKind(all(), 'ScaledObject');
        expect(scaledObjects.map((s) => s.metadata.name).sort()).toEqual(CONSUMER_MODULE_NAMES.map(deploymentName).sort());
        for (const module of CONSUMER_MODULE_NAMES) {
          const scaled = named(all(), 'ScaledObject', deploymentName(module));
          expect(scaled.spec.scaleTargetRef.name, module).toBe(deploymentName(module));
          expect(deployment(module).spec.replicas, `${module}: KEDA owns the count`).toBeUndefined();
          expect(scaled.spec.maxReplicaCount, module).toBeLessThanOrEqual(config.kafka.topicPartitions);
          expect(scaled.spec.minReplicaCount, module).toBeLessThanOrEqual(scaled.spec.maxReplicaCount);
          const triggers = scaled.spec.triggers as { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
          expect(triggers.map((t) => t.type), module).toEqual(triggers.map(() => 'kafka'));
          expect(triggers.map((t) => t.metadata.consumerGroup), module).toEqual(triggers.map(() => physicalGroupId(config, module)));
          expect(triggers.map((t) => t.metadata.topic).sort(), module).toEqual(CONSUMER_MODULES[module]().topics.map((t) => physicalTopic(config, t)).sort());
          for (const t of triggers) {
            expect(t.metadata.bootstrapServers, module).toBe(config.kafka.brokers.join(','));
            expect(t.authenticationRef?.name, module).toBe(`${FULLNAME}-kafka`);
          }
        }
        // Every payment waits on transactions: it never scales to zero.
        expect(named(all(), 'ScaledObject', deploymentName('transactions')).spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      });

      it('lets KEDA authenticate as the consumers do: their user, the password from the same Secret', () => {
        const auth = named(all(), 'TriggerAuthentication', `${FULLNAME}-kafka`);
        expect(auth.spec.env).toEqual([{ parameter: 'username', name: 'KAFKA_SASL_USERNAME', containerName: 'consumer' }]);
        const password = (auth.spec.secretTargetRef as { parameter: string; name: string; key: string }[]).find((r) => r.parameter === 'password');
        const pod = deployment('transactions').spec.template.spec;
        const volume = pod.volumes.find((v: { name: string }) => v.name === 'kafka-sasl');
        expect(password).toEqual({ parameter: 'password', name: volume.secret.secretName, key: volume.secret.items[0].key });
        expect(containerOf(deployment('transactions')).name).toBe('consumer');
      });

      it('lets only the API take traffic from outside: every other pod of the release is closed', () => {
        const policies = ofKind(all(), 'NetworkPolicy');
        const selects = (policy: KubeObject, labels: Record<string, string>) => {
          const { matchLabels = {}, matchExpressions = [] } = policy.spec.podSelector as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] };
          return Object.entries(matchLabels).every(([k, v]) => labels[k] === v) && matchExpressions.every((e) => (e.operator === 'NotIn' ? !e.values.includes(labels[e.key] ?? '') : e.values.includes(labels[e.key] ?? '')));
        };
        for (const process of appServices) {
          const labels = deployment(process).spec.template.metadata.labels as Record<string, string>;
          const governing = policies.filter((p) => selects(p, labels) && p.spec.policyTypes.includes('Ingress'));
          expect(governing.length, `${process} is governed by an ingress policy`).toBeGreaterThan(0);
          const openToAll = governing.filter((p) => (p.spec.ingress ?? []).some((rule: { from?: unknown[] }) => rule.from === undefined || rule.from.length === 0));
          expect(openToAll.length > 0, `${process} takes traffic from anywhere`).toBe(process === 'api');
        }
      });
    });
  }

  it('creates, with Strimzi, every topic src/events/topics.ts creates, with its settings, on 3 brokers with min ISR 2', () => {
    const all = objects.defaults!;
    const config = loadConfig(resolvedEnvironment(named(all, 'Deployment', deploymentName('api'))));
    const topics = ofKind(all, 'KafkaTopic').map((t) => ({
      topic: t.spec.topicName as string,
      numPartitions: t.spec.partitions as number,
      replicationFactor: t.spec.replicas as number,
      configEntries: Object.entries(t.spec.config as Record<string, number | string>).map(([name, value]) => ({ name, value: String(value) })),
    }));
    const sortByTopic = <T extends { topic: string }>(list: T[]) => [...list].sort((a, b) => a.topic.localeCompare(b.topic));
    const byName = (entries: { name: string; value: string }[]) => [...entries].sort((a, b) => a.name.localeCompare(b.name));
    const expected = topicSpecs(config).map((s) => ({ ...s, configEntries: byName(s.configEntries as { name: string; value: string }[]) }));
    expect(sortByTopic(topics.map((t) => ({ ...t, configEntries: byName(t.configEntries) })))).toEqual(sortByTopic(expected));
    expect(topics.some((t) => t.topic.endsWith('.dlq')) && topics.some((t) => t.topic.endsWith('.parked'))).toBe(true);

    const pool = ofKind(all, 'KafkaNodePool')[0]!;
    expect(pool.spec.replicas).toBe(3);
    expect([...pool.spec.roles].sort()).toEqual(['broker', 'controller']);
    const kafka = ofKind(all, 'Kafka')[0]!;
    expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
    expect(kafka.spec.kafka.config).toMatchObject({ 'default.replication.factor': 3, 'min.insync.replicas': 2, 'offsets.topic.replication.factor': 3, 'auto.create.topics.enable': false });
    expect(config.kafka.brokers).toEqual([`${kafka.metadata.name}-kafka-bootstrap:9093`]);
    // Strimzi copies these labels onto the broker pods: none of the release's selectors may match them.
    for (const policy of ofKind(all, 'NetworkPolicy')) {
      for (const o of [kafka, pool]) {
        const selector = policy.spec.podSelector.matchLabels as Record<string, string>;
        expect(Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v), `${policy.metadata.name} selects ${o.kind}'s pods`).toBe(false);
      }
    }
    // Uninstalling the release must not delete the log, the source of truth.
    for (const o of [kafka, pool, ...ofKind(all, 'KafkaTopic')]) expect(o.metadata.annotations?.['helm.sh/resource-policy'], `${o.kind} ${o.metadata.name}`).toBe('keep');
    const user = ofKind(all, 'KafkaUser')[0]!;
    expect(config.kafka.sasl?.username).toBe(user.metadata.name);
    expect(user.spec.authentication.type).toBe(`${config.kafka.sasl?.mechanism}`);
  });
});
