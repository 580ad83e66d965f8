import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { deployToolPaths, deployToolsUpToDate } from '../../../src/devstack/deploy-tools';
import { stackPaths } from '../../../src/devstack/paths';

/**
 * The chart's tests run the real tools `./dev install` builds (src/devstack/deploy-tools.ts):
 * Helm renders deploy/food-ordering, kube-validate checks what it renders. Without them the
 * tests are skipped on a developer's machine and fail under CI, saying what to run.
 */
export const tools = deployToolPaths(stackPaths(process.env.LOCAL_STATE_DIR || '.local'));
const installed = existsSync(tools.helm) && existsSync(tools.kubeValidate);
export const skipChartTests = !installed && !process.env.CI;

/** Throws, naming the fix, when the tools are missing or were built from older sources. */
export function requireTools(): void {
  if (!installed) {
    throw new Error(`Helm and kube-validate are not built (${tools.helm}, ${tools.kubeValidate}): run ./dev install (it builds them from deploy/tools with Go)`);
  }
  if (!deployToolsUpToDate(tools)) {
    throw new Error(`Helm and kube-validate in ${tools.helm}'s folder were built from older sources than deploy/tools: run ./dev install to rebuild them`);
  }
}

/** The Kubernetes version kube-validate's types are (k8s.io/api v0.37.x: 1.37.x); Helm renders for the same. */
export function kubernetesVersion(): string {
  if (pinnedVersion) return pinnedVersion;
  const version = run(tools.kubeValidate, ['-version']).stdout.trim();
  if (!/^v1\.\d+\.\d+$/.test(version)) throw new Error(`kube-validate -version printed "${version}"`);
  return (pinnedVersion = version);
}
let pinnedVersion: string | undefined;

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], input?: string): Run {
  // Helm keeps caches and its repository list under HOME; nothing of the sort is wanted here.
  const home = mkdtempSync(join(tmpdir(), 'helm-home-'));
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, HOME: home, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home } });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** A values file of the chart's folder, or the defaults (none). */
export const PRODUCTION_EXAMPLE = 'values-production.example.yaml';

/** `helm template`: the manifests as text, or Helm's failure (status and message). */
export function helmTemplate(options: { release?: string; valuesFiles?: readonly string[]; set?: Readonly<Record<string, string>> } = {}): Run {
  const args = ['template', options.release ?? 'food-ordering', tools.chart, '--kube-version', kubernetesVersion()];
  for (const file of options.valuesFiles ?? []) args.push('-f', join(tools.chart, file));
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  return run(tools.helm, args);
}

/** Renders or throws with Helm's message. */
export function render(options: Parameters<typeof helmTemplate>[0] = {}): string {
  const result = helmTemplate(options);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return result.stdout;
}

/** kube-validate on manifests given as text: its exit status and report. */
export function validate(manifests: string): Run {
  return run(tools.kubeValidate, ['-crds', tools.crds, '-'], manifests);
}

// ---------------------------------------------------------------------------------------
// The rendered objects, typed as far as the tests read them.
// ---------------------------------------------------------------------------------------

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Left untyped: each test reads the fields of its own kind. */
  spec?: any;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export interface Container {
  name: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
}

export function objectsOf(manifests: string): KubeObject[] {
  return parseAllDocuments(manifests)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

export function manifestsOf(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

export const ofKind = (objects: readonly KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);

export function named(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** The one container of a Deployment's pods. */
export function containerOf(deployment: KubeObject): Container {
  const containers = deployment.spec.template.spec.containers as Container[];
  if (containers.length !== 1) throw new Error(`${deployment.metadata.name} has ${containers.length} containers`);
  return containers[0]!;
}

/** Sample values of the Secrets the chart refers to, as an operator would create them. */
export const SECRET_VALUES: Record<string, string> = {
  JWT_SECRET: 'j'.repeat(64),
  MONGO_URL: 'mongodb://orders:mongo0pass@mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/food-ordering?replicaSet=rs0&authSource=admin',
  SMTP_URL: 'smtps://mailer:smtp0pass@mail.example.com:465',
};

/**
 * The environment a container would see: plain values as they are, Secret references replaced
 * by SECRET_VALUES, and paths to files mounted from Secrets (the SASL password, the CA) pointed
 * at sample files, so loadConfig can read them as it would in the pod.
 */
export function resolvedEnvironment(deployment: KubeObject): Record<string, string> {
  const container = containerOf(deployment);
  const volumes = (deployment.spec.template.spec.volumes ?? []) as { name: string; secret?: { secretName: string } }[];
  const secretMounts = (container.volumeMounts ?? []).filter((m) => volumes.find((v) => v.name === m.name)?.secret);
  const files = mkdtempSync(join(tmpdir(), 'mounted-secrets-'));
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.valueFrom) {
      const sample = SECRET_VALUES[variable.name];
      if (sample === undefined) throw new Error(`${variable.name} comes from a Secret the test has no sample value for`);
      env[variable.name] = sample;
      continue;
    }
    const value = variable.value ?? '';
    const mount = secretMounts.find((m) => value.startsWith(`${m.mountPath}/`));
    if (mount) {
      const sample = join(files, `${mount.name}-${value.slice(mount.mountPath.length + 1)}`);
      writeFileSync(sample, `sample ${mount.name}\n`);
      env[variable.name] = sample;
    } else {
      env[variable.name] = value;
    }
  }
  return env;
}
