import { createServer, Socket, type Server } from 'node:net';

/**
 * A loopback TCP proxy in front of one Kafka broker that can lose the broker's answers to
 * produce requests: the request reaches the broker (and is appended), the answer never reaches
 * the client, and the connection is dropped, as when a network fails right after the append.
 * It can also hold produce requests (never forwarding them, the connection kept open even once
 * the broker is gone) until the test drops them, as a dead host's connection hangs until the
 * client gives up on it. It reads just enough of Kafka's framing (a 4-byte size, then the request's api key and
 * correlation id) to tell produce answers from the rest; every byte it passes is unchanged.
 */
export interface KafkaProxy {
  readonly port: number;
  /** Loses the next `count` produce answers (each with its connection). */
  loseProduceAnswers(count: number): void;
  /** Produce answers lost so far. */
  readonly lost: number;
  /** Holds every produce request from now on: not forwarded, its connection left open. */
  holdProduceRequests(): void;
  /** Produce requests held so far. */
  readonly held: number;
  /** Closes the connections of the held requests (their senders see "Closed connection") and stops holding. */
  dropHeld(): void;
  close(): Promise<void>;
}

const PRODUCE = 0;

/** Splits a byte stream into Kafka frames (size-prefixed), calling `onFrame` with each whole frame, prefix included. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) return;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

export async function startKafkaProxy(options: { readonly listenPort: number; readonly brokerPort: number }): Promise<KafkaProxy> {
  let toLose = 0;
  let lost = 0;
  let holding = false;
  let held = 0;
  const holders = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const broker = new Socket();
    sockets.add(client).add(broker);
    const apiKeys = new Map<number, number>(); // correlation id → api key of the request
    const drop = () => {
      broker.destroy();
      if (!holders.has(client)) client.destroy();
    };
    client.on('data', framer((frame) => {
      const apiKey = frame.readInt16BE(4);
      if (apiKey === PRODUCE && holding) {
        held += 1;
        holders.add(client);
        return;
      }
      apiKeys.set(frame.readInt32BE(8), apiKey);
      if (!broker.destroyed) broker.write(frame);
    }));
    broker.on('data', framer((frame) => {
      const correlationId = frame.readInt32BE(4);
      const apiKey = apiKeys.get(correlationId);
      apiKeys.delete(correlationId);
      if (apiKey === PRODUCE && toLose > 0) {
        toLose -= 1;
        lost += 1;
        drop();
        return;
      }
      client.write(frame);
    }));
    for (const socket of [client, broker]) {
      socket.on('error', drop);
      socket.on('close', () => {
        sockets.delete(socket);
        drop();
      });
    }
    broker.connect(options.brokerPort, '127.0.0.1');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort, '127.0.0.1', resolve);
  });
  return {
    port: options.listenPort,
    loseProduceAnswers(count) {
      toLose = count;
    },
    get lost() {
      return lost;
    },
    holdProduceRequests() {
      holding = true;
    },
    get held() {
      return held;
    },
    dropHeld() {
      holding = false;
      for (const client of holders) client.destroy();
      holders.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
