import type { Config } from '../config';
import type { Logger } from '../logger';
import { ensureFerretDbBinary, startFerretDb, stopFerretDb } from './ferretdb';
import { ensureKafkaJars, startKafka, stopKafka } from './kafka';
import { ensureMailpitBinary, startMailpit, stopMailpit } from './mailpit';
import { stackPaths, type StackPaths } from './paths';
import { ensurePostgresInstalled } from './postgres';

export const SINGLE_KAFKA = 'single';
export const FAULT_CLUSTER = 'cluster';

export interface RunningStack {
  readonly kafkaBrokers: readonly string[];
  readonly mongoUrl: string;
  /** Where confirmation emails go: SMTP_URL as given, or the local Mailpit's. */
  readonly smtpUrl: string;
  /** The local Mailpit's web page; undefined when SMTP_URL names another server. */
  readonly mailUiUrl: string | undefined;
  /** What this call started (and so what its caller should stop), as opposed to found running or given. */
  readonly started: { readonly kafka: boolean; readonly mongo: boolean; readonly mail: boolean };
}

export function pathsFor(config: Config): StackPaths {
  return stackPaths(config.localStateDir);
}

/**
 * Fetches the Kafka jars, builds FerretDB and Mailpit and installs PostgreSQL when missing
 * (apt-get, as root), side by side, without starting anything.
 */
export async function installStack(config: Config, log: Logger): Promise<void> {
  const paths = pathsFor(config);
  await Promise.all([
    config.kafka.external ? undefined : ensureKafkaJars(paths, log),
    config.mongo.external ? undefined : ensureFerretDbBinary(paths, log),
    config.mongo.external ? undefined : ensurePostgresInstalled(log),
    config.smtpUrl ? undefined : ensureMailpitBinary(paths, log),
  ]);
}

/**
 * Makes Kafka, a MongoDB-wire server (FerretDB on the local PostgreSQL) and an SMTP server
 * (Mailpit) reachable: what the environment names is used as is; what it leaves unset is
 * started locally (or found already running from an earlier call).
 */
export async function ensureStack(config: Config, log: Logger): Promise<RunningStack> {
  const paths = pathsFor(config);
  await installStack(config, log);
  const [kafka, mongo, mail] = await Promise.all([
    config.kafka.external
      ? { brokers: [...config.kafka.brokers], started: false }
      : startKafka({ paths, log, name: SINGLE_KAFKA, nodeCount: 1, basePort: config.kafka.localPort }),
    config.mongo.external ? { url: config.mongo.url, started: false } : startFerretDb({ paths, log, port: config.mongo.localPort }),
    config.smtpUrl ? { smtpUrl: config.smtpUrl, uiUrl: undefined, started: false } : startMailpit({ paths, log, ...config.mailpit }),
  ]);
  return {
    kafkaBrokers: kafka.brokers,
    mongoUrl: config.mongo.url,
    smtpUrl: mail.smtpUrl,
    mailUiUrl: mail.uiUrl,
    started: { kafka: kafka.started, mongo: mongo.started, mail: mail.started },
  };
}

/** Stops the local services (all of them, or those named), leaving their data in place. */
export async function stopStack(
  config: Config,
  log: Logger,
  which: { kafka: boolean; mongo: boolean; mail?: boolean } = { kafka: true, mongo: true, mail: true },
): Promise<void> {
  const paths = pathsFor(config);
  await Promise.all([
    which.kafka ? stopKafka(paths, SINGLE_KAFKA, log) : undefined,
    which.kafka ? stopKafka(paths, FAULT_CLUSTER, log) : undefined,
    which.mongo ? stopFerretDb(paths, log) : undefined,
    which.mail ? stopMailpit(paths, log) : undefined,
  ]);
}
