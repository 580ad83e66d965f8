/**
 * Graceful shutdown (issue 7) and finding 6's probes, on the real built processes: the API
 * (`node dist/api.js`) and a consumer process (`node dist/consumers/analytics.js`) against the
 * running Kafka and FerretDB. Each serves /livez and /readyz; on SIGTERM the API fails
 * readiness first (while still answering), finishes a request that is in flight, closes its
 * WebSockets with 1001 (going away), and exits 0; the consumer exits 0; both within
 * SHUTDOWN_TIMEOUT_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { signAccessToken } from '../../src/auth/access-token';
import { buildIfNeeded, freePort, ROOT } from '../support/processes';
import { removeTestNamespace, uniqueMongoUrl, uniqueName, waitFor } from '../support/services';

const JWT_SECRET = 'graceful-shutdown-secret-0123456789abcdef-0123';
const SHUTDOWN_TIMEOUT_MS = 10_000;
const namespace = uniqueName('shutdown');
const mongoUrl = uniqueMongoUrl('shutdown');
const spawned: ChildProcess[] = [];
const output: string[] = [];

function start(entry: string, env: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [`dist/${entry}`], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      KAFKA_BROKERS: inject('kafkaBrokers'),
      MONGO_URL: mongoUrl,
      KAFKA_NAMESPACE: namespace,
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      JWT_SECRET,
      LOG_FORMAT: 'json',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...env,
    },
  });
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => output.push(...String(chunk).split('\n')));
  spawned.push(child);
  return { child, exited: new Promise((done) => child.once('exit', (code, signal) => done({ code, signal }))) };
}

const status = async (url: string) => (await fetch(url).catch(() => null))?.status ?? null;
const diagnostics = () => output.slice(-30).join('\n');

beforeAll(async () => {
  await buildIfNeeded();
}, 180_000);

afterAll(async () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await removeTestNamespace(namespace, mongoUrl);
});

describe('the API process', () => {
  it('serves /livez and /readyz; on SIGTERM fails readiness first, finishes an in-flight request, closes WebSockets with 1001 and exits 0 in time', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const api = start('api.js', { PORT: String(port) });
    await waitFor(async () => (await status(`${base}/readyz`)) === 200, 90_000, `the API to be ready:\n${diagnostics()}`);
    expect(await status(`${base}/livez`)).toBe(200);

    // A subscriber's socket, acknowledged.
    const token = await signAccessToken({ sub: 'c-shutdown', role: 'CUSTOMER' }, JWT_SECRET);
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    await new Promise<void>((acked, failed) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && acked());
      socket.once('error', failed);
    });

    // A request in flight: its body only half sent when the signal comes.
    const body = JSON.stringify({ query: '{ __typename }' });
    const request = connect(port, '127.0.0.1');
    let answer = '';
    request.on('data', (chunk) => (answer += String(chunk)));
    const answered = new Promise<void>((done) => request.once('end', () => done()));
    await new Promise<void>((done) => request.once('connect', () => done()));
    request.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    // Readiness fails at once while the API still answers (load balancers stop sending to it)…
    await waitFor(async () => (await status(`${base}/readyz`)) === 503, 1500, 'readiness to fail first');
    expect(await status(`${base}/livez`)).toBe(200);
    // …the request in flight still completes…
    request.end(body.slice(5));
    await answered;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"__typename":"Query"');
    // …the subscriber is told the server is going away, and the process ends in time.
    expect(await closed).toBe(1001);
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  }, 150_000);
});

describe('a consumer process', () => {
  it('serves /livez and /readyz on its HEALTH_PORT (ready once joined) and exits 0 in time on SIGTERM', async () => {
    const healthPort = await freePort();
    const base = `http://127.0.0.1:${healthPort}`;
    const consumer = start('consumers/analytics.js', { HEALTH_PORT: String(healthPort) });
    await waitFor(async () => (await status(`${base}/readyz`)) === 200, 90_000, `the consumer to be ready:\n${diagnostics()}`);
    expect(await status(`${base}/livez`)).toBe(200);
    const signalledAt = Date.now();
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  }, 150_000);
});
