/**
 * One load process of the fanout benchmark (bench/fanout.bench.ts starts several): it opens
 * one graphql-ws connection per token it is given, subscribes each to the query it is given,
 * and records when each client receives each event (performance.timeOrigin + performance.now(),
 * the clock the API's arrival hook uses; every process runs on the same machine).
 *
 * Talks to the parent over IPC only:
 *   parent → child  { type: 'start', url, query, variables, tokens, concurrency, connectTimeoutMs }
 *                   { type: 'report' }   send the receipts
 *                   { type: 'close' }    close every connection and exit
 *   child → parent  { type: 'progress', connected, failed, dropped, live, received, cpu }   about once a second
 *                   { type: 'settled', connected, failed, errors }   every connection attempt ended
 *                   { type: 'receipts', bySeq, errors, live, dropped, cpu }   bySeq: event sequence → receive times;
 *                                                                           cpu: this process's cpuUsage()
 *
 * An event is told apart by its `ordersPlaced` figure, which the parent sets to a sequence number.
 */
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws/client';
import WebSocket from 'ws';

const clients = [];
/** seq → receive times (ms) */
const bySeq = new Map();
const errors = [];
let connected = 0;
let failed = 0;
/** Connections the server closed after acknowledging them. */
let dropped = 0;
let closing = false;
let live = 0;
let received = 0;

const note = (message) => {
  if (errors.length < 20) errors.push(message);
};

function open(url, query, variables, token, connectTimeoutMs) {
  return new Promise((resolve) => {
    let settled = false;
    let isLive = false;
    const settle = (ok, why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) connected += 1;
      else {
        failed += 1;
        note(why);
      }
      resolve();
    };
    const timer = setTimeout(() => settle(false, `no connection_ack within ${connectTimeoutMs} ms`), connectTimeoutMs);
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      keepAlive: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: {
        connected: () => settle(true),
        closed: (event) => {
          if (!settled) return settle(false, `closed before connection_ack: ${event?.code ?? ''} ${event?.reason ?? ''}`);
          if (closing) return;
          dropped += 1;
          note(`closed by the server: ${event?.code ?? ''} ${event?.reason ?? ''}`);
        },
        error: (error) => settle(false, `socket error: ${error?.message ?? String(error)}`),
      },
    });
    clients.push(client);
    client.subscribe(
      { query, variables },
      {
        next: (result) => {
          const at = performance.timeOrigin + performance.now();
          const seq = result.data?.analyticsUpdated?.ordersPlaced;
          if (result.errors) note(`errors: ${JSON.stringify(result.errors).slice(0, 300)}`);
          if (typeof seq !== 'number') return;
          let times = bySeq.get(seq);
          if (!times) bySeq.set(seq, (times = []));
          times.push(at);
          received += 1;
          if (!isLive) {
            isLive = true;
            live += 1;
          }
        },
        error: (error) => note(`subscription error: ${error instanceof Error ? error.message : JSON.stringify(error).slice(0, 300)}`),
        complete: () => undefined,
      },
    );
  });
}

async function start({ url, query, variables, tokens, concurrency, connectTimeoutMs }) {
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++];
      await open(url, query, variables, token, connectTimeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker));
  process.send({ type: 'settled', connected, failed, errors });
}

const progress = setInterval(() => process.send?.({ type: 'progress', connected, failed, dropped, live, received, cpu: process.cpuUsage() }), 1000);

process.on('message', (message) => {
  if (message.type === 'start') void start(message);
  else if (message.type === 'report') process.send({ type: 'receipts', bySeq: Object.fromEntries(bySeq), errors, live, dropped, cpu: process.cpuUsage() });
  else if (message.type === 'close') {
    clearInterval(progress);
    closing = true;
    void Promise.allSettled(clients.map((c) => c.dispose())).then(() => process.exit(0));
    // A socket that will not close must not keep the benchmark waiting.
    setTimeout(() => process.exit(0), 10_000).unref();
  }
});
// The parent went away: nothing left to report to.
process.on('disconnect', () => process.exit(0));
