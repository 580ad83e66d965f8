/**
 * `./dev up --scale transactions=2,api=2` as real processes: the compiled supervisor pointed
 * at the running Kafka and FerretDB with its own namespace, database and ports. It must run
 * each instance as its own child process (two APIs on PORT and PORT + 1, two transactions
 * instances in one consumer group, each consumer on a probe port of its own, all printed),
 * print demo tokens that both API instances accept, take orders placed on either API to
 * CONFIRMED, and on Ctrl-C exit 0 leaving no child behind. Wrong counts stop it at once with
 * one sentence (scale.test.ts specifies the parsing and planning).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applicationProcesses } from '../../src/devstack/supervise';
import { physicalGroupId } from '../../src/events/topics';
import { MeDocument, OrderDocument, PlaceOrderDocument } from '../generated/graphql';
import { gql } from '../support/api-harness';
import { buildIfNeeded, childrenOf, collectOutput, commandLine, freePortRun, isRunning, killSupervisorTree, ROOT, type LogLine } from '../support/processes';
import { removeTestNamespace, testConfig, testKafka, uniqueMongoUrl, uniqueName, waitFor } from '../support/services';

let supervisor: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let logs: LogLine[] = [];
let diagnostics: () => string;
let port: number;
const namespace = uniqueName('dev-up-scale');
const mongoUrl = uniqueMongoUrl('dev-up-scale');
/** The supervisor's first log line that starts with `text`. */
const supervisorSaid = (text: string) => logs.find((l) => l.pid === supervisor.pid && (l.msg ?? '').startsWith(text));

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: inject('kafkaBrokers'), MONGO_URL: mongoUrl, KAFKA_NAMESPACE: namespace, PORT: String(port), HOST: '127.0.0.1', KAFKA_TOPIC_PARTITIONS: '6', LOG_FORMAT: 'json', LOG_LEVEL: 'info' };
  // As a developer's shell: development, no secret of its own (the supervisor makes one for both APIs).
  delete e.SMTP_URL;
  delete e.NODE_ENV;
  delete e.JWT_SECRET;
  return e;
}

beforeAll(async () => {
  await buildIfNeeded();
  port = await freePortRun(2); // the two API instances take both, below the kernel's client ports
  supervisor = spawn(process.execPath, ['dist/devstack/cli.js', 'up', '--scale', 'transactions=2,api=2'], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((done) => supervisor.once('exit', (code, signal) => done({ code, signal })));
  ({ logs, diagnostics } = collectOutput(supervisor));
  await waitFor(
    () => {
      if (supervisor.exitCode !== null) throw new Error(`./dev up exited with ${supervisor.exitCode}:\n${diagnostics()}`);
      return supervisorSaid('GraphiQL: http') !== undefined;
    },
    150_000,
    'the GraphiQL line',
  ).catch((error: Error) => {
    throw new Error(`${error.message}; output so far:\n${diagnostics()}`);
  });
}, 180_000);

afterAll(async () => {
  killSupervisorTree(supervisor); // only after a failure above
  await removeTestNamespace(namespace, mongoUrl);
});

const children = () => childrenOf(supervisor.pid!).map((pid) => ({ pid, entry: applicationProcesses.find((p) => commandLine(pid).at(-1)?.endsWith(`dist/${p.entry}`))?.entry }));
const printedTokens = () => [...(supervisorSaid('Development access tokens')?.msg ?? '').matchAll(/Bearer (\S+\.\S+\.\S+)/g)].map((m) => m[1]!);

describe('./dev up --scale transactions=2,api=2', () => {
  it('runs each instance as its own child process: two APIs, two transactions, one of each other module', () => {
    const entries = children().map((c) => c.entry).sort();
    const expected = applicationProcesses.flatMap((p) => (p.name === 'api' || p.name === 'transactions' ? [p.entry, p.entry] : [p.entry])).sort();
    expect(entries).toEqual(expected);
  });

  it('prints every instance\'s address: both APIs on the GraphiQL line, a probe port per consumer instance', async () => {
    expect(supervisorSaid('GraphiQL: http')?.msg).toContain(`GraphiQL: http://127.0.0.1:${port}/graphql  (api-2: http://127.0.0.1:${port + 1}/graphql)`);
    const probes = supervisorSaid('consumer probes')?.probes as Record<string, string>;
    expect(Object.keys(probes).sort()).toEqual(['analytics', 'confirmations', 'order-authority', 'orders-projector', 'transactions', 'transactions-2']);
    expect(new Set(Object.values(probes)).size).toBe(6);
    for (const [label, url] of Object.entries(probes)) {
      const ready = await waitFor(async () => (await fetch(url).catch(() => null))?.status === 200, 60_000, `${label} ${url} to answer 200`);
      expect(ready, label).toBe(true);
    }
    for (const p of [port, port + 1]) expect((await fetch(`http://127.0.0.1:${p}/readyz`)).status).toBe(200);
  });

  it('both transactions instances are members of the one group', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const groupId = physicalGroupId(testConfig({ KAFKA_NAMESPACE: namespace }), 'transactions');
      const members = await waitFor(async () => {
        const [group] = (await admin.describeGroups([groupId])).groups;
        return group?.state === 'Stable' && group.members.length === 2 && group.members;
      }, 60_000, 'two members in the transactions group');
      expect(members).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });

  it('the supervisor prints demo tokens both API instances accept, and orders placed on either reach CONFIRMED', async () => {
    const tokens = printedTokens();
    expect(tokens).toHaveLength(3);
    // The APIs print none of their own: they were given the run's shared secret.
    expect(logs.filter((l) => l.pid !== supervisor.pid && (l.msg ?? '').startsWith('Development access tokens'))).toEqual([]);
    const input = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 1 }], deliveryAddress: '1 Main Street', paymentToken: 'tok_visa' };
    for (const p of [port, port + 1]) {
      const url = `http://127.0.0.1:${p}/graphql`;
      expect((await gql(url, MeDocument, {}, tokens[0])).data?.me).toMatchObject({ id: 'demo-customer', role: 'CUSTOMER' });
      const placed = await gql(url, PlaceOrderDocument, { input }, tokens[0]);
      expect(placed.errors).toBeUndefined();
      const id = placed.data!.placeOrder.id;
      // Read back through the other instance: both serve the one read model.
      const other = `http://127.0.0.1:${p === port ? port + 1 : port}/graphql`;
      await waitFor(async () => (await gql(other, OrderDocument, { id }, tokens[0])).data?.order?.status === 'CONFIRMED', 30_000, `order ${id} to be CONFIRMED`);
    }
  });

  it('on Ctrl-C (SIGINT) exits 0 and leaves no child process running', async () => {
    const pids = children().map((c) => c.pid);
    expect(pids).toHaveLength(8);
    supervisor.kill('SIGINT');
    const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 30_000).unref());
    expect(await Promise.race([exited, timeout]), diagnostics()).toEqual({ code: 0, signal: null });
    expect(pids.filter(isRunning)).toEqual([]);
  }, 40_000);

  it('stops at once, with one sentence, on a count above the partitions or an unknown process', () => {
    for (const [scale, message] of [
      ['transactions=7', '--scale transactions=7: its topics have 6 partitions each (KAFKA_TOPIC_PARTITIONS)'],
      ['payment=2', '--scale names no process "payment"'],
    ] as const) {
      const run = spawnSync(process.execPath, ['dist/devstack/cli.js', 'up', '--scale', scale], { cwd: ROOT, env: env(), encoding: 'utf8', timeout: 20_000 });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toContain(message);
    }
  });
});
