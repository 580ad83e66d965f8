import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import type { StackPaths } from './paths';
import { requireTool } from './prerequisites';
import { fingerprint, isUpToDate, markUpToDate, runProvisioning } from './provision';
import { StackError } from './stack.errors';

/**
 * The Kubernetes deployment's offline tools, built by `./dev install` from the Go module in
 * deploy/tools (its go.mod pins Helm and, through it, the Kubernetes libraries):
 * - `helm`: renders the chart in deploy/food-ordering (`helm template`);
 * - `kube-validate`: checks what it renders strictly against the Kubernetes API types of the
 *   pinned version and the KEDA and Strimzi CRDs in deploy/schemas.
 * test/deploy/ runs both; nothing else needs them, so `./dev up` does not build them.
 */
export interface DeployToolPaths {
  /** The Go module both are built from. */
  readonly source: string;
  readonly helm: string;
  readonly kubeValidate: string;
  /** Written after a build: the fingerprint of the sources it was built from. */
  readonly stamp: string;
  readonly chart: string;
  readonly crds: string;
}

export function deployToolPaths(paths: StackPaths): DeployToolPaths {
  const deploy = join(paths.root, 'deploy');
  return {
    source: join(deploy, 'tools'),
    helm: join(paths.local, 'bin', 'helm'),
    kubeValidate: join(paths.local, 'bin', 'kube-validate'),
    stamp: join(paths.local, 'bin', 'deploy-tools.built'),
    chart: join(deploy, 'food-ordering'),
    crds: join(deploy, 'schemas'),
  };
}

/** go.mod, go.sum and the validator's sources: a change to any of them rebuilds both tools. */
function sourcesOf(tools: DeployToolPaths): string[] {
  const validator = join(tools.source, 'kube-validate');
  const goFiles = existsSync(validator) ? readdirSync(validator).filter((f) => f.endsWith('.go')).sort() : [];
  return [join(tools.source, 'go.mod'), join(tools.source, 'go.sum'), ...goFiles.map((f) => join(validator, f))];
}

/** Whether both binaries exist and were built from the current sources. */
export function deployToolsUpToDate(tools: DeployToolPaths): boolean {
  return existsSync(tools.helm) && existsSync(tools.kubeValidate) && isUpToDate(tools.stamp, fingerprint(sourcesOf(tools)));
}

/** The version go.mod requires of a module (`helm.sh/helm/v3 v3.22.0`). */
function requiredVersion(goMod: string, module: string): string {
  const version = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/\./g, '\\.')}\\s+(v\\S+)`, 'm').exec(goMod)?.[1];
  if (!version) throw new StackError(`deploy/tools/go.mod requires no version of ${module}`);
  return version;
}

/**
 * Builds helm and kube-validate into the local state folder, once per change of their sources.
 * Helm gets the link-time settings its own Makefile gives a release: its version, and the
 * Kubernetes version its templates see by default (that of its client-go: v0.37 is 1.37).
 */
export async function ensureDeployTools(paths: StackPaths, log: Logger): Promise<DeployToolPaths> {
  const tools = deployToolPaths(paths);
  if (deployToolsUpToDate(tools)) return tools;
  requireTool('go');
  const goMod = readFileSync(join(tools.source, 'go.mod'), 'utf8');
  const helmVersion = requiredVersion(goMod, 'helm.sh/helm/v3');
  const kubeMinor = requiredVersion(goMod, 'k8s.io/client-go').split('.')[1];
  const ldflags = [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${helmVersion}`,
    ...['pkg/chartutil', 'pkg/lint/rules'].flatMap((pkg) => [`-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1`, `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${kubeMinor}`]),
  ].join(' ');
  mkdirSync(join(paths.local, 'bin'), { recursive: true });
  await runProvisioning({
    what: `building Helm ${helmVersion} and kube-validate with Go (first run only, a few minutes)`,
    command: 'go',
    // Two main packages and -o a folder: one build, each binary named after its package's folder.
    args: ['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', `${join(paths.local, 'bin')}/`, 'helm.sh/helm/v3/cmd/helm', './kube-validate'],
    cwd: tools.source,
    log,
    progressLine: /^(go: downloading|[a-z0-9.-]+\.[a-z]+\/|[a-z]+(\/[a-z0-9_]+)*$)/i,
    progressNoun: 'packages',
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
  });
  markUpToDate(tools.stamp, fingerprint(sourcesOf(tools)));
  return tools;
}
