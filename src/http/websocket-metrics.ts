import type { ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { processMetrics } from '../metrics/process-metrics';

/** Counts an open socket in `graphql_websockets_active` until it closes. */
export function countSocket(socket: WebSocket): void {
  const { websockets } = processMetrics().graphql;
  websockets.inc();
  socket.once('close', () => websockets.dec());
}

/**
 * graphql-ws hooks that keep `graphql_subscriptions_active`: a subscription counts from the
 * moment it returns its stream (onOperation) until graphql-ws completes it (onComplete: the
 * client's complete, the stream's end or error, or the socket closing). Ids are per socket and
 * may be reused, so each socket's counted ids are kept until they complete. Nothing runs per
 * event delivered.
 */
export function countSubscriptions<P extends Record<string, unknown> | undefined, E>(): Pick<ServerOptions<P, E>, 'onOperation' | 'onComplete'> {
  const { subscriptions } = processMetrics().graphql;
  const running = new WeakMap<object, Set<string>>();
  return {
    onOperation: (ctx, id, _payload, _args, result) => {
      if (!(Symbol.asyncIterator in result)) return;
      let ids = running.get(ctx);
      if (!ids) running.set(ctx, (ids = new Set()));
      ids.add(id);
      subscriptions.inc();
    },
    onComplete: (ctx, id) => {
      if (running.get(ctx)?.delete(id)) subscriptions.dec();
    },
  };
}
