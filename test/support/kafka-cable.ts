import { connect, Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socketFactory the test can cut: `cut()` drops every open connection of the clients
 * built with it and refuses new ones until `mend()`, as a network partition between this
 * process and Kafka would. Only clients given this factory are affected; the shared broker and
 * every other test go on.
 */
export interface KafkaCable {
  readonly socketFactory: ISocketFactory;
  cut(): void;
  mend(): void;
}

export function kafkaCable(): KafkaCable {
  const open = new Set<Socket>();
  let isCut = false;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (isCut) {
      const refused = new Socket();
      process.nextTick(() => refused.destroy(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (cut by the test)`), { code: 'ECONNREFUSED' })));
      return refused;
    }
    const socket = connect({ host, port }, onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return socket;
  };
  return {
    socketFactory,
    cut() {
      isCut = true;
      for (const socket of open) socket.destroy(Object.assign(new Error('connection cut by the test'), { code: 'ECONNRESET' }));
    },
    mend() {
      isCut = false;
    },
  };
}
