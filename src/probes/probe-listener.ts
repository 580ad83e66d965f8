import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProbeHandler } from './probe-routes';

export interface ProbeListener {
  /** The port it listens on (the one asked for, or the one picked for 0). */
  readonly port: number;
  readonly url: string;
  /** Stops listening and drops its connections (probes are short: nothing is worth waiting for). */
  close(): Promise<void>;
}

/**
 * A small HTTP listener of a process's own for its probes (a consumer process has no other
 * HTTP server). Answers 404 to whatever the handlers leave; `handlers` are tried in order, so
 * `/metrics` can join the probes later on the same listener.
 */
export async function startProbeListener(options: { readonly host: string; readonly port: number; readonly handlers: readonly ProbeHandler[] }): Promise<ProbeListener> {
  const server: Server = createServer((req, res) => {
    if (options.handlers.some((handle) => handle(req, res))) return;
    res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ status: 'not found' }));
  });
  // An orchestrator's probe must never keep a stopping process alive.
  server.keepAliveTimeout = 1000;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server.address() as AddressInfo));
  });
  const host = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address.includes(':') ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    url: `http://${host}:${address.port}`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
