import type { Server } from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { identify } from '../auth/access-token';
import type { Identity } from '../auth/viewer';
import type { Logger } from '../logger';
import type { ApiContext, ApiServices } from '../resolvers/context';
import { formatGraphQLErrors } from './format-error';
import { operationLimitError, type OperationLimits } from './operation-limits';

export interface SubscriptionServerOptions {
  readonly httpServer: Server;
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly services: ApiServices;
  readonly jwtSecret: string;
  readonly limits: OperationLimits;
  readonly log: Logger;
}

/** `authorization` (any case) from connectionParams or an operation's `extensions.headers`. */
function authorizationIn(record: unknown): unknown {
  if (typeof record !== 'object' || record === null) return undefined;
  const entry = Object.entries(record).find(([key]) => key.toLowerCase() === 'authorization');
  return entry?.[1];
}

/** Longest delay setTimeout takes (about 24.8 days); a token living longer is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A subscription lives as long as its socket, so the token that opened the socket must not
 * outlive its expiry: the socket is closed (4401) the moment it expires, and the app
 * reconnects with a fresh token.
 */
function closeWhenExpired(socket: WebSocket, expiresAtSeconds: number): void {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    const left = expiresAtSeconds * 1000 - Date.now();
    if (left <= 0) return void socket.close(CloseCode.Unauthorized, 'Unauthorized: the access token has expired');
    timer = setTimeout(check, Math.min(MAX_TIMER_MS, left));
    timer.unref();
  };
  check();
  socket.once('close', () => clearTimeout(timer));
}

const tagged = (errors: readonly GraphQLError[], code: string) =>
  errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code } }));

/**
 * graphql-ws on the HTTP server's port and path. The token is verified when the socket
 * connects (a missing, bad or expired one closes it with 4401); GraphiQL also sends headers
 * per operation, and a token there is verified the same way and wins for that operation.
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions): { dispose(): Promise<void> } {
  const { httpServer, path, schema, services, jwtSecret, limits, log } = options;
  const wss = new WebSocketServer({ server: httpServer, path, maxPayload: limits.maxBodyBytes });
  const server = useServer<Record<string, unknown> | undefined, { identity: Identity }>(
    {
      schema,
      onConnect: async (ctx) => {
        const identity = await identify(authorizationIn(ctx.connectionParams), jwtSecret);
        if (identity.viewer === null) {
          // WebSocket close reasons are limited to 123 bytes.
          ctx.extra.socket.close(CloseCode.Unauthorized, `Unauthorized: ${identity.problem}`.slice(0, 120));
          return false;
        }
        ctx.extra.identity = identity;
        closeWhenExpired(ctx.extra.socket, identity.viewer.expiresAt);
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return tagged([error instanceof GraphQLError ? error : new GraphQLError(String(error))], 'GRAPHQL_PARSE_FAILED');
        }
        const invalid = validate(schema, document, specifiedRules);
        if (invalid.length > 0) return tagged(invalid, 'GRAPHQL_VALIDATION_FAILED');
        const tooBig = operationLimitError(schema, document, payload.operationName, payload.variables ?? undefined, limits);
        if (tooBig) return [tooBig];
        const headers = (payload.extensions as { headers?: unknown } | undefined)?.headers;
        const perOperation = authorizationIn(headers);
        const identity = perOperation ? await identify(perOperation, jwtSecret) : (ctx.extra.identity as Identity);
        const contextValue: ApiContext = { identity, services };
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatGraphQLErrors(result.errors, log) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatGraphQLErrors(errors, log),
    },
    wss,
  );
  return { dispose: async () => void (await server.dispose()) };
}
