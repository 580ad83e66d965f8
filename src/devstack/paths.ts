import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The folder holding this project's package.json, found from wherever this file was compiled to. */
export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'infra'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the project root above ${from}`);
  }
}

/** Where every piece of local state lives: one git-ignored folder, removed by `./dev clean`. */
export interface StackPaths {
  readonly root: string;
  readonly local: string;
  readonly kafkaPom: string;
  readonly kafkaLog4j: string;
  readonly kafkaLibs: string;
  /** Per cluster name (`single`, `cluster`): server.properties, data and logs of each node. */
  readonly kafkaCluster: (name: string) => string;
  readonly ferretSource: string;
  readonly ferretBinary: string;
  /** Where FerretDB's modules are vendored and patched before the build. */
  readonly ferretBuild: string;
  readonly ferretData: string;
  readonly ferretLog: string;
  readonly ferretPid: string;
  /** Which backend the running FerretDB was started on (`postgresql` or `sqlite`). */
  readonly ferretBackend: string;
  /** The local PostgreSQL under FerretDB: its cluster (`data/`), socket folder (`run/`) and log. */
  readonly postgresDir: string;
  readonly postgresData: string;
  readonly postgresSocketDir: string;
  readonly postgresLog: string;
  /** Mailpit: its module source copied from the Go module cache (UI built into it), binary, mailbox, log, pid. */
  readonly mailpitSource: string;
  readonly mailpitBinary: string;
  readonly mailpitDatabase: string;
  readonly mailpitLog: string;
  readonly mailpitPid: string;
}

export function stackPaths(localStateDir: string, root: string = projectRoot()): StackPaths {
  const local = resolve(root, localStateDir);
  return {
    root,
    local,
    kafkaPom: join(root, 'infra', 'kafka', 'pom.xml'),
    kafkaLog4j: join(root, 'infra', 'kafka', 'log4j2.properties'),
    kafkaLibs: join(local, 'kafka', 'libs'),
    kafkaCluster: (name) => join(local, 'kafka', name),
    ferretSource: join(root, 'infra', 'ferretdb'),
    ferretBinary: join(local, 'bin', 'ferretdb'),
    ferretBuild: join(local, 'ferretdb', 'build'),
    ferretData: join(local, 'ferretdb', 'data'),
    ferretLog: join(local, 'ferretdb', 'ferretdb.log'),
    ferretPid: join(local, 'ferretdb', 'ferretdb.pid'),
    ferretBackend: join(local, 'ferretdb', 'ferretdb.backend'),
    postgresDir: join(local, 'postgres'),
    postgresData: join(local, 'postgres', 'data'),
    postgresSocketDir: join(local, 'postgres', 'run'),
    postgresLog: join(local, 'postgres', 'postgres.log'),
    mailpitSource: join(local, 'mailpit', 'source'),
    mailpitBinary: join(local, 'bin', 'mailpit'),
    mailpitDatabase: join(local, 'mailpit', 'mailpit.db'),
    mailpitLog: join(local, 'mailpit', 'mailpit.log'),
    mailpitPid: join(local, 'mailpit', 'mailpit.pid'),
  };
}
