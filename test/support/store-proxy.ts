import { createServer, Socket, type Server } from 'node:net';

/**
 * A loopback TCP proxy in front of the store (FerretDB), controlled by the test: it can freeze
 * (stop reading from and writing to every connection, new ones included: a hung link), or cut
 * (drop every connection and refuse new ones for a while: the store gone and back).
 */
export interface StoreProxy {
  /** `mongodb://127.0.0.1:<port>/<database>` through the proxy. */
  url(database: string): string;
  freeze(): void;
  /** Drops every connection, refuses new ones for `ms`, then serves again. */
  cut(ms: number): void;
  close(): Promise<void>;
}

export async function startStoreProxy(storeUrl: string): Promise<StoreProxy> {
  const target = new URL(storeUrl);
  const sockets = new Set<Socket>();
  let frozen = false;
  let cutUntil = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
    s.on('close', () => sockets.delete(s));
  };
  const server: Server = createServer((client) => {
    track(client);
    if (Date.now() < cutUntil) return void client.destroy();
    // Accepted and never read: a connection made while frozen stalls too.
    if (frozen) return void client.pause();
    const upstream = new Socket();
    track(upstream);
    upstream.connect(Number(target.port || 27017), target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: (database) => `mongodb://127.0.0.1:${port}/${database}`,
    freeze() {
      frozen = true;
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
    },
    cut(ms) {
      cutUntil = Date.now() + ms;
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
