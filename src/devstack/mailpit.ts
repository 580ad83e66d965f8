import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger';
import type { StackPaths } from './paths';
import { requireTool } from './prerequisites';
import { assertPortFree, runningPid, startDetached, stopByPidFile, waitUntilReady } from './processes';
import { isUpToDate, markUpToDate, runProvisioning } from './provision';
import { StackError } from './stack.errors';

/**
 * The Mailpit release the local stack builds; docker-compose.yml runs the same image tag
 * (test/docker-compose.test.ts holds the two together). Not the newest the Go proxy serves
 * (v1.33.1): that release's web page locks npm packages the registry does not serve here
 * (sass-embedded 1.108.1, rapidoc ^12), while v1.27.11's lock file installs as it is.
 */
export const MAILPIT_VERSION = 'v1.27.11';
const MODULE = 'github.com/axllent/mailpit';

const goEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' });

/** The module's read-only folder in the Go module cache, downloaded from the proxy if needed. */
async function downloadModule(): Promise<string> {
  const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', `${MODULE}@${MAILPIT_VERSION}`], { env: goEnv(), maxBuffer: 1 << 20 }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new StackError(`could not download ${MODULE}@${MAILPIT_VERSION} from the Go module proxy: ${error.stderr || error.stdout}`, { cause: error });
  });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new StackError(`go mod download named no folder for ${MODULE}@${MAILPIT_VERSION}: ${stdout}`);
  return dir;
}

/** The module cache is read-only; the UI build writes node_modules/ and server/ui/dist/ into its copy. */
function makeWritable(path: string): void {
  chmodSync(path, statSync(path).mode | 0o200);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/**
 * The module zip carries the web page's sources but not its built bundle (server/ui/dist/,
 * embedded into the binary by `//go:embed ui`): without it the page a person opens is blank.
 * So a copy of the module is built with its own npm lock file and esbuild config first.
 * Install scripts are skipped: esbuild and sass ship their binaries as plain packages. Its
 * devDependencies are the build tools, so they are included whatever NODE_ENV says.
 */
async function ensureMailpitUi(paths: StackPaths, log: Logger): Promise<void> {
  const stamp = join(paths.mailpitSource, '.ui-built');
  const bundle = join(paths.mailpitSource, 'server', 'ui', 'dist', 'app.js');
  if (isUpToDate(stamp, MAILPIT_VERSION) && existsSync(bundle)) return;
  const moduleDir = await downloadModule();
  rmSync(paths.mailpitSource, { recursive: true, force: true });
  mkdirSync(dirname(paths.mailpitSource), { recursive: true });
  cpSync(moduleDir, paths.mailpitSource, { recursive: true });
  makeWritable(paths.mailpitSource);
  const npm = { command: 'npm', cwd: paths.mailpitSource, log, progressLine: /\S/, progressNoun: 'lines' } as const;
  await runProvisioning({ ...npm, what: `installing the npm packages of Mailpit ${MAILPIT_VERSION}'s web page (first run only, about two minutes)`, args: ['ci', '--include=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'] });
  await runProvisioning({ ...npm, what: `building Mailpit ${MAILPIT_VERSION}'s web page (esbuild)`, args: ['run', 'package'] });
  if (!existsSync(bundle)) throw new StackError(`Mailpit's web page build wrote no ${bundle}; see the lines above.`);
  // Only the bundle is needed from here on; the packages would keep ~100 MB in the state folder.
  rmSync(join(paths.mailpitSource, 'node_modules'), { recursive: true, force: true });
  markUpToDate(stamp, MAILPIT_VERSION);
}

/** Builds Mailpit (web page included) from the Go module proxy into the local folder, once per machine. */
export async function ensureMailpitBinary(paths: StackPaths, log: Logger): Promise<void> {
  const stamp = `${paths.mailpitBinary}.built`;
  if (isUpToDate(stamp, MAILPIT_VERSION) && existsSync(paths.mailpitBinary)) return;
  requireTool('go');
  await ensureMailpitUi(paths, log);
  mkdirSync(dirname(paths.mailpitBinary), { recursive: true });
  await runProvisioning({
    what: `building Mailpit ${MAILPIT_VERSION} with Go (first run only, about three minutes)`,
    command: 'go',
    args: ['build', '-v', '-trimpath', '-ldflags', `-s -w -X ${MODULE}/config.Version=${MAILPIT_VERSION}`, '-o', paths.mailpitBinary, '.'],
    cwd: paths.mailpitSource,
    log,
    progressLine: /^(go: downloading|[a-z0-9.-]+\.[a-z]+\/|[a-z]+(\/[a-z0-9_]+)*$)/i,
    progressNoun: 'packages',
    env: goEnv(),
  });
  markUpToDate(stamp, MAILPIT_VERSION);
}

export interface RunningMailpit {
  /** What the consumers' SMTP_URL is set to. */
  readonly smtpUrl: string;
  /** The web page (and its HTTP API under /api/v1/) where a person reads each email. */
  readonly uiUrl: string;
  readonly started: boolean;
}

/** The addresses of the local Mailpit on these ports. */
export function mailpitUrls(ports: { smtpPort: number; uiPort: number }): { smtpUrl: string; uiUrl: string } {
  return { smtpUrl: `smtp://127.0.0.1:${ports.smtpPort}`, uiUrl: `http://127.0.0.1:${ports.uiPort}/` };
}

/**
 * Starts (or finds running) Mailpit on loopback: SMTP on smtpPort, the web page on uiPort. Its
 * mailbox is a file in the state folder, so emails outlive a restart (`./dev clean` drops them).
 */
export async function startMailpit(options: { paths: StackPaths; log: Logger; smtpPort: number; uiPort: number }): Promise<RunningMailpit> {
  const { paths, log, smtpPort, uiPort } = options;
  await ensureMailpitBinary(paths, log);
  const { smtpUrl, uiUrl } = mailpitUrls({ smtpPort, uiPort });
  let pid = runningPid(paths.mailpitPid);
  const started = pid === undefined;
  if (pid === undefined) {
    await assertPortFree(smtpPort, 'Mailpit (SMTP)', 'set MAILPIT_SMTP_PORT to a free port, or SMTP_URL to your own mail server');
    await assertPortFree(uiPort, 'Mailpit (web page)', 'set MAILPIT_UI_PORT to a free port');
    pid = startDetached({
      command: paths.mailpitBinary,
      args: [
        '--listen', `127.0.0.1:${uiPort}`,
        '--smtp', `127.0.0.1:${smtpPort}`,
        '--database', paths.mailpitDatabase,
        // No network here, and no reason to ask GitHub for releases on every start.
        '--disable-version-check',
        '--smtp-disable-rdns',
      ],
      cwd: dirname(paths.mailpitLog),
      logFile: paths.mailpitLog,
      pidFile: paths.mailpitPid,
    });
    log.info({ smtpPort, uiPort }, 'Mailpit starting');
  }
  await waitUntilReady({ what: `Mailpit (${uiUrl})`, check: async () => (await fetch(`${uiUrl}readyz`)).ok, log, pid, logFile: paths.mailpitLog, timeoutMs: 30_000 });
  return { smtpUrl, uiUrl, started };
}

/** Stops Mailpit, leaving its mailbox in place. */
export async function stopMailpit(paths: StackPaths, log: Logger): Promise<void> {
  await stopByPidFile(paths.mailpitPid, 'Mailpit', log);
}
