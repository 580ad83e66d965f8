import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '../logger';
import type { StackPaths } from './paths';
import { javaCommand, requireTool } from './prerequisites';
import { StackError } from './stack.errors';
import { assertPortFree, runningPid, startDetached, stopByPidFile, waitUntilReady } from './processes';
import { fingerprint, isUpToDate, markUpToDate, runProvisioning } from './provision';
import { saslSslEntries, saslSslProperties, scramFormatArgs, type SaslSslListener } from './kafka-sasl-ssl';

/** Copies the Kafka broker and its runtime dependencies out of Maven's cache, once per pom change. */
export async function ensureKafkaJars(paths: StackPaths, log: Logger): Promise<void> {
  const stamp = join(paths.kafkaLibs, '.resolved');
  const print = fingerprint([paths.kafkaPom]);
  if (isUpToDate(stamp, print)) return;
  requireTool('java');
  requireTool('mvn');
  mkdirSync(paths.kafkaLibs, { recursive: true });
  await runProvisioning({
    what: 'resolving the Apache Kafka jars with Maven (first run only)',
    command: 'mvn',
    args: ['-B', '-f', paths.kafkaPom, 'dependency:copy-dependencies', `-DoutputDirectory=${paths.kafkaLibs}`, '-DincludeScope=runtime'],
    cwd: paths.root,
    log,
    progressLine: /Downloaded from|Copying /,
    progressNoun: 'artifacts',
  });
  markUpToDate(stamp, print);
}

export interface KafkaNode {
  readonly id: number;
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly dir: string;
}

/**
 * Node i listens for clients on basePort + 2i and for its controller quorum on the port after
 * it: a single broker on 9092 has its controller on 9093.
 */
export function kafkaNodes(clusterDir: string, count: number, basePort: number): KafkaNode[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    brokerPort: basePort + 2 * i,
    controllerPort: basePort + 2 * i + 1,
    dir: join(clusterDir, `node-${i + 1}`),
  }));
}

/**
 * `advertisedPort`: where clients are told to connect, when not the node's own port (a test's
 * proxy in front of it). `saslSsl`: an extra SASL_SSL listener (kafka-sasl-ssl.ts).
 */
export function serverProperties(node: KafkaNode, all: readonly KafkaNode[], advertisedPort = node.brokerPort, saslSsl?: SaslSslListener): string {
  const replicas = Math.min(3, all.length);
  const extra = saslSsl && saslSslEntries(saslSsl);
  return [
    '# Written by src/devstack/kafka.ts; regenerated at every start.',
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${all.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://127.0.0.1:${node.brokerPort},CONTROLLER://127.0.0.1:${node.controllerPort}${extra ? `,${extra.listener}` : ''}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}${extra ? `,${extra.listener}` : ''}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${extra ? `,${extra.protocol}` : ''}`,
    ...(saslSsl ? saslSslProperties(saslSsl) : []),
    `log.dirs=${join(node.dir, 'data')}`,
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${Math.min(2, replicas)}`,
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${Math.min(2, replicas)}`,
    'num.partitions=6',
    'auto.create.topics.enable=false',
    // Tests and local runs join groups often; do not wait for more members to arrive.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

function formatStorage(paths: StackPaths, node: KafkaNode, clusterId: string, log: Logger, extraArgs: readonly string[] = []): void {
  if (existsSync(join(node.dir, 'data', 'meta.properties'))) return;
  log.info({ node: node.id }, 'formatting KRaft storage');
  try {
    execFileSync(
      javaCommand(),
      ['-cp', `${paths.kafkaLibs}/*`, `-Dlog4j2.configurationFile=${paths.kafkaLog4j}`, 'kafka.tools.StorageTool', 'format',
        '--cluster-id', clusterId, '--config', join(node.dir, 'server.properties'), '--ignore-formatted', ...extraArgs],
      { stdio: 'pipe' },
    );
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new StackError(`Formatting the storage of Kafka node ${node.id} failed; the storage tool said:\n${output}`, { cause: error });
  }
}

/** Answers true once every broker is in the metadata and the group coordinator has loaded. */
async function clusterAnswers(brokers: readonly string[], expectedBrokers: number): Promise<boolean> {
  const admin = new Kafka({ clientId: 'devstack-readiness', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length < expectedBrokers) return false;
    // Creating __consumer_offsets takes a moment after the first start: consumers that join
    // before it has loaded crash once, so "ready" waits for it.
    await admin.describeGroups(['devstack-readiness']);
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface KafkaStartOptions {
  readonly paths: StackPaths;
  readonly log: Logger;
  /** `single` for the everyday broker, `cluster` for the three-node fault-test cluster. */
  readonly name: string;
  readonly nodeCount: number;
  readonly basePort: number;
  /** Per node, the port clients are told to connect to instead of its own (fault tests put a proxy there). */
  readonly advertisedPorts?: readonly number[];
  /** An extra SASL_SSL listener (one-node clusters only); its SCRAM users are created when the storage is first formatted. */
  readonly saslSsl?: SaslSslListener;
}

/** Starts (or finds running) a KRaft Kafka of `nodeCount` combined broker+controller nodes. */
export async function startKafka(options: KafkaStartOptions): Promise<{ brokers: string[]; started: boolean }> {
  const { paths, log, name, nodeCount, basePort, saslSsl } = options;
  if (saslSsl && nodeCount !== 1) throw new StackError('a SASL_SSL listener is offered on one-node clusters only');
  await ensureKafkaJars(paths, log);
  requireTool('java');
  const clusterDir = paths.kafkaCluster(name);
  const nodes = kafkaNodes(clusterDir, nodeCount, basePort);
  const brokers = nodes.map((n) => `127.0.0.1:${n.brokerPort}`);
  mkdirSync(clusterDir, { recursive: true });
  const idFile = join(clusterDir, 'cluster.id');
  if (!existsSync(idFile)) writeFileSync(idFile, `${kafkaClusterId()}\n`);
  const clusterId = readFileSync(idFile, 'utf8').trim();

  const pids: number[] = [];
  let started = false;
  for (const node of nodes) {
    const pidFile = join(node.dir, 'kafka.pid');
    const running = runningPid(pidFile);
    if (running !== undefined) {
      pids.push(running);
      continue;
    }
    const move = name === 'single' ? 'set KAFKA_PORT to a free port (its controller takes the next one)' : 'pass another --port';
    await assertPortFree(node.brokerPort, `Kafka broker ${node.id}`, move);
    await assertPortFree(node.controllerPort, `Kafka controller ${node.id}`, move);
    mkdirSync(join(node.dir, 'data'), { recursive: true });
    if (saslSsl) await assertPortFree(saslSsl.port, `Kafka SASL_SSL listener ${node.id}`, move);
    writeFileSync(join(node.dir, 'server.properties'), serverProperties(node, nodes, options.advertisedPorts?.[node.id - 1], saslSsl));
    formatStorage(paths, node, clusterId, log, saslSsl ? scramFormatArgs(saslSsl) : []);
    const heap = nodeCount > 1 ? '512m' : '1g';
    pids.push(
      startDetached({
        command: javaCommand(),
        args: [`-Xmx${heap}`, '-Xms128m', '-XX:+UseG1GC', '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${paths.kafkaLog4j}`, `-Dkafka.logs.dir=${node.dir}`,
          '-cp', `${paths.kafkaLibs}/*`, 'kafka.Kafka', join(node.dir, 'server.properties')],
        cwd: node.dir,
        logFile: join(node.dir, 'server.log'),
        pidFile,
      }),
    );
    started = true;
    log.info({ node: node.id, port: node.brokerPort }, 'Kafka node starting');
  }
  await waitUntilReady({
    what: `Kafka (${brokers.join(', ')})`,
    check: () => clusterAnswers(brokers, nodes.length),
    log,
    pid: pids[0],
    logFile: join(nodes[0]!.dir, 'server.log'),
  });
  return { brokers, started };
}

export async function stopKafka(paths: StackPaths, name: string, log: Logger): Promise<void> {
  const clusterDir = paths.kafkaCluster(name);
  if (!existsSync(clusterDir)) return;
  // Nodes stop in parallel: a lone survivor of a quorum waits for peers that are gone.
  const nodeDirs = readdirSync(clusterDir).filter((entry) => entry.startsWith('node-'));
  await Promise.all(nodeDirs.map((dir) => stopByPidFile(join(clusterDir, dir, 'kafka.pid'), `Kafka ${dir}`, log)));
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. Like Kafka's own
 * Uuid.randomUuid, never one that starts with '-': the storage tool would read it as an option.
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The pid file of one node, for fault tests that kill a broker on purpose. */
export function kafkaNodePidFile(paths: StackPaths, name: string, nodeId: number): string {
  return join(paths.kafkaCluster(name), `node-${nodeId}`, 'kafka.pid');
}
