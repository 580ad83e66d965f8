/**
 * The README's first command, `./dev up`, as real processes: the compiled supervisor
 * (`node dist/devstack/cli.js up`) pointed at the running Kafka and FerretDB, with its own
 * namespace, database and port, and no SMTP_URL: it finds the local Mailpit the global setup
 * runs (so it starts and stops no service). It must run the API and the four consumer modules
 * as its own child processes, serve an offline GraphiQL, print Mailpit's address beside it,
 * take an order to CONFIRMED through those processes with its confirmation email landing in
 * Mailpit, print the dev tokens, and on Ctrl-C (SIGINT) exit 0 leaving no child behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_CUSTOMER } from '../../src/auth/dev-tokens';
import { applicationProcesses } from '../../src/devstack/supervise';
import { MeDocument, OrderDocument, PlaceOrderDocument } from '../generated/graphql';
import { gql } from '../support/api-harness';
import { buildIfNeeded, childrenOf, collectOutput, commandLine, freePort, isRunning, killSupervisorTree, ROOT, type LogLine } from '../support/processes';
import { removeTestNamespace, uniqueMongoUrl, uniqueName, waitFor } from '../support/services';

const ENTRIES = applicationProcesses.map((p) => p.entry);

let supervisor: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let logs: LogLine[] = [];
let output: string[] = [];
let diagnostics: () => string;
let port: number;
let graphqlUrl: string;
let children: Map<string, number>; // entry → pid
const namespace = uniqueName('dev-up');
const mongoUrl = uniqueMongoUrl('dev-up');

const logged = (test: (l: LogLine) => boolean) => logs.find(test);
const graphiqlLine = () => logged((l) => l.pid === supervisor.pid && (l.msg ?? '').includes('GraphiQL: http'));

beforeAll(async () => {
  await buildIfNeeded();
  port = await freePort();
  graphqlUrl = `http://127.0.0.1:${port}/graphql`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: inject('kafkaBrokers'),
    MONGO_URL: mongoUrl,
    KAFKA_NAMESPACE: namespace,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  delete env.SMTP_URL;
  // As a developer's shell: ./dev sets development itself, and the API generates its secret.
  delete env.NODE_ENV;
  delete env.JWT_SECRET;
  supervisor = spawn(process.execPath, ['dist/devstack/cli.js', 'up'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((done) => supervisor.once('exit', (code, signal) => done({ code, signal })));
  ({ logs, output, diagnostics } = collectOutput(supervisor));
  await waitFor(
    async () => {
      if (supervisor.exitCode !== null) throw new Error(`./dev up exited with ${supervisor.exitCode}:\n${diagnostics()}`);
      return (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.status === 200 && graphiqlLine() !== undefined;
    },
    90_000,
    'GET /health to answer 200 and the GraphiQL address to be printed',
  ).catch((error: Error) => {
    throw new Error(`${error.message}; output so far:\n${diagnostics()}`);
  });
  children = await waitFor(() => {
    const found = new Map(childrenOf(supervisor.pid!).map((pid) => [ENTRIES.find((e) => commandLine(pid).at(-1)?.endsWith(`dist/${e}`)) ?? `?${pid}`, pid]));
    return found.size >= ENTRIES.length && found;
  }, 20_000, 'the five application processes');
});

afterAll(async () => {
  killSupervisorTree(supervisor); // only after a failure above
  await removeTestNamespace(namespace, mongoUrl);
});

describe('./dev up with the services given', () => {
  it('prints the GraphiQL address, and Mailpit\'s beside it', () => {
    expect(graphiqlLine()?.msg?.split(/\s+/).slice(0, 2)).toEqual(['GraphiQL:', graphqlUrl]);
    expect(inject('mailUiUrl')).not.toBe('');
    expect(graphiqlLine()?.msg).toContain(`Mailpit (emails): ${inject('mailUiUrl')}`);
    expect(graphiqlLine()?.smtp).toBe(inject('smtpUrl'));
  });

  it('runs the API and each of the four consumer modules as its own child process', () => {
    expect([...children.keys()].sort()).toEqual([...ENTRIES].sort());
    const pids = [...children.values()];
    expect(new Set(pids).size).toBe(ENTRIES.length);
    expect(pids).not.toContain(supervisor.pid);
    expect(pids.every(isRunning)).toBe(true);
  });

  /** The three tokens the API printed at start (customer, restaurant, admin). */
  const printedTokens = () => {
    const block = logged((l) => l.pid === children.get('api.js') && (l.msg ?? '').startsWith('Development access tokens'));
    return [...(block?.msg ?? '').matchAll(/Bearer (\S+\.\S+\.\S+)/g)].map((m) => m[1]!);
  };

  it('the API printed development tokens, signed with the secret it generated (none was given)', async () => {
    const tokens = printedTokens();
    expect(tokens).toHaveLength(3);
    const me = await gql(graphqlUrl, MeDocument, {}, tokens[0]);
    expect(me.data?.me).toMatchObject({ id: 'demo-customer', role: 'CUSTOMER' });
  });

  it('GET /graphql as a browser gets GraphiQL with no script or stylesheet from the network', async () => {
    const response = await fetch(graphqlUrl, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/graphiql/i);
    expect(html).not.toMatch(/<(script|link)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import\s+(url\()?\s*["']?(https?:)?\/\//i);
  });

  it('prints the operations dashboard\'s address, and the page opens with the demo admin token', async () => {
    const dashboardUrl = `http://127.0.0.1:${port}/dashboard`;
    expect(graphiqlLine()?.msg).toContain(`Dashboard: ${dashboardUrl}`);
    const html = await (await fetch(dashboardUrl)).text();
    const admin = printedTokens()[2]!;
    expect(html).toContain(`<meta name="dashboard-token" content="${admin}">`);
    expect((await gql(graphqlUrl, MeDocument, {}, admin)).data?.me).toMatchObject({ id: 'demo-admin', role: 'ADMIN' });
  });

  it('takes an order placed over HTTP to CONFIRMED: the consumer processes did the work', async () => {
    const [token] = printedTokens();
    const input = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 1 }], deliveryAddress: '1 Main Street', paymentToken: 'tok_visa' };
    const placed = await gql(graphqlUrl, PlaceOrderDocument, { input }, token);
    expect(placed.errors).toBeUndefined();
    const id = placed.data!.placeOrder.id;
    const confirmed = await waitFor(async () => {
      const order = (await gql(graphqlUrl, OrderDocument, { id }, token)).data?.order;
      return order?.status === 'CONFIRMED' && order;
    }, 30_000, `order ${id} to be CONFIRMED`);
    expect(confirmed.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CONFIRMED']);
    // Charged by the transactions process, projected by the projector process: their own log lines, their own pids.
    const handledBy = (entry: string, topic: string) =>
      waitFor(() => logged((l) => l.pid === children.get(entry) && l.msg === `handled ${topic}` && l.key === id), 10_000, `${entry} to log ${topic}`);
    expect(await handledBy('consumers/transactions.js', 'order.placed')).toMatchObject({ result: 'captured' });
    expect(await handledBy('consumers/orders-projector.js', 'order.status-changed')).toMatchObject({ key: id });

    // The confirmations process sent the email to the Mailpit ./dev up pointed it at: a person sees it there.
    const mailpit = inject('mailUiUrl');
    interface Summary { ID: string; Subject: string; To: { Address: string }[] }
    const summary = await waitFor(async () => {
      const list = (await (await fetch(`${mailpit}api/v1/search?query=${encodeURIComponent(`subject:"${id}"`)}`)).json()) as { messages: Summary[] };
      return list.messages.find((m) => m.Subject === `Your order ${id} is confirmed`);
    }, 30_000, `the confirmation email of ${id} in Mailpit`);
    expect(summary.To.map((t) => t.Address)).toEqual([DEMO_CUSTOMER.email]);
    const message = (await (await fetch(`${mailpit}api/v1/message/${summary.ID}`)).json()) as { Text: string; HTML: string };
    expect(message.Text).toContain(`Order ${id}`);
    expect(message.HTML).toContain(`<h2>Order ${id}</h2>`);
  });

  it('logs no email address, the confirmation just sent included (only the development banner names the fictional demo customer)', async () => {
    await waitFor(() => logged((l) => l.msg === 'handled order.confirmed' && l.result === 'sent (smtp)'), 10_000, 'the confirmations process to log the email it sent');
    const withAddress = output.filter((line) => /[\w.+-]+@[\w-]+\.[\w.-]+/.test(line) && !line.includes('"msg":"Development access tokens'));
    expect(withAddress).toEqual([]);
  });

  it('on Ctrl-C (SIGINT) exits 0 within 30 s and leaves no child process running', async () => {
    const pids = [...children.values()];
    supervisor.kill('SIGINT');
    const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 30_000).unref());
    const result = await Promise.race([exited, timeout]);
    expect(result, diagnostics()).toEqual({ code: 0, signal: null });
    expect(pids.filter(isRunning)).toEqual([]);
  }, 40_000);
});
