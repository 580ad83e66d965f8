/**
 * The local stack's command line, run through `./dev`:
 *   ./dev up [--scale transactions=3,api=2]   services + API + every consumer module (N instances of those named: scale.ts), in the foreground
 *   ./dev services start     Kafka, FerretDB (on its PostgreSQL) and Mailpit in the background (reused by tests)
 *   ./dev services stop|status
 *   ./dev cluster start|stop three Kafka nodes for fault tests (ports 19092-19097)
 *   ./dev install            fetch the Kafka jars, build FerretDB and Mailpit, install PostgreSQL if missing, build the
 *                            deployment's tools (Helm, kube-validate: deploy-tools.ts); start nothing
 *   ./dev clean              stop everything and delete the local state folder
 *   ./dev dlq list|show|redrive   dead letters and parked messages (ops-commands.ts)
 *   ./dev replay <module> [--switch]   rebuild a read model from the log (ops-commands.ts)
 */
import { rmSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config';
import { AppError } from '../errors';
import { chooseLogFormat, createLogger, withoutPassword, type Logger } from '../logger';
import { ensureDeployTools } from './deploy-tools';
import { startKafka, stopKafka } from './kafka';
import { mailpitUrls } from './mailpit';
import { postgresPid } from './postgres';
import { dlqCommand, replayCommand } from './ops-commands';
import { runningPid } from './processes';
import { parseUpArguments } from './scale';
import { superviseApplication } from './supervise';
import { ensureStack, FAULT_CLUSTER, installStack, pathsFor, stopStack } from './stack';

const CLUSTER_BASE_PORT = 19092;

async function status(config: Config): Promise<void> {
  const paths = pathsFor(config);
  const line = (what: string, pidFile: string) => {
    const pid = runningPid(pidFile);
    console.log(`${what.padEnd(22)} ${pid === undefined ? 'stopped' : `running (pid ${pid})`}`);
  };
  if (config.kafka.external) console.log(`Kafka                  given: ${config.kafka.brokers.join(',')}`);
  else line(`Kafka :${config.kafka.localPort}`, `${paths.kafkaCluster('single')}/node-1/kafka.pid`);
  if (config.mongo.external) console.log(`MongoDB                given: ${withoutPassword(config.mongo.url)}`);
  else {
    line(`FerretDB :${config.mongo.localPort}`, paths.ferretPid);
    const pg = postgresPid(paths);
    console.log(`${'PostgreSQL (socket)'.padEnd(22)} ${pg === undefined ? 'stopped' : `running (pid ${pg}, ${paths.postgresSocketDir})`}`);
  }
  if (config.smtpUrl) console.log('SMTP                   given: SMTP_URL');
  else {
    const { smtpUrl, uiUrl } = mailpitUrls(config.mailpit);
    const pid = runningPid(paths.mailpitPid);
    console.log(`${`Mailpit :${config.mailpit.smtpPort}`.padEnd(22)} ${pid === undefined ? 'stopped' : `running (pid ${pid}, ${smtpUrl}, web page ${uiUrl})`}`);
  }
  console.log(`local state            ${paths.local}`);
}

async function main(args: readonly string[], log: Logger, config: Config): Promise<void> {
  const [command, sub] = args;
  if (command === 'dlq') return dlqCommand(args.slice(1), config, log);
  if (command === 'replay') return replayCommand(args.slice(1), config, log);
  if (command === 'up') return superviseApplication(config, log, parseUpArguments(args.slice(1)).scale);
  switch (`${command ?? ''} ${sub ?? ''}`.trim()) {
    case 'install':
      // The chart's test needs the deployment's tools; `./dev up` does not, so only here.
      await Promise.all([installStack(config, log), ensureDeployTools(pathsFor(config), log)]);
      return;
    case 'services start': {
      const stack = await ensureStack(config, log);
      log.info({ kafka: stack.kafkaBrokers.join(','), mongo: withoutPassword(stack.mongoUrl), mailpit: stack.mailUiUrl }, 'services are up; `./dev services stop` stops them');
      return;
    }
    case 'services stop':
      return stopStack(config, log);
    case 'services status':
      return status(config);
    case 'cluster start': {
      const { brokers } = await startKafka({ paths: pathsFor(config), log, name: FAULT_CLUSTER, nodeCount: 3, basePort: CLUSTER_BASE_PORT });
      log.info({ brokers: brokers.join(',') }, 'three-node Kafka cluster is up');
      return;
    }
    case 'cluster stop':
      return stopKafka(pathsFor(config), FAULT_CLUSTER, log);
    case 'clean': {
      await stopStack(config, log);
      rmSync(pathsFor(config).local, { recursive: true, force: true });
      log.info({ dir: pathsFor(config).local }, 'local state removed');
      return;
    }
    default:
      console.error(`usage: ./dev up [--scale <process>=<count>,…] | test [vitest args] | bench | services start|stop|status | cluster start|stop | install | clean | dlq list|show|redrive | replay <module> [--switch]`);
      process.exitCode = 2;
  }
}

function run(): void {
  let config: Config;
  try {
    // `./dev` runs the local stack: development unless NODE_ENV says otherwise (unset is production for the product's own processes).
    config = loadConfig({ ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' });
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
  const format = chooseLogFormat(process.env.LOG_FORMAT || undefined, process.stdout.isTTY === true, config.nodeEnv);
  const log = createLogger('devstack', { level: config.logLevel, pretty: format === 'pretty' });
  main(process.argv.slice(2), log, config).catch((error: unknown) => {
    if (error instanceof AppError) { // StackError is one too
      // One sentence a person can act on; the stack trace would only hide it.
      console.error(`\n${error.message}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
}

// Runs only as `node dist/devstack/cli.js` (through ./dev), never when imported, like the other entry points.
if (require.main === module) run();
