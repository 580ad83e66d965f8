import type { Server } from 'node:http';
import { GraphQLError, getOperationAST, NoSchemaIntrospectionCustomRule, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { identify, type TokenPolicy } from '../auth/access-token';
import { UnauthenticatedError } from '../auth/auth.errors';
import type { Identity } from '../auth/viewer';
import type { Logger } from '../logger';
import type { ApiContext, ApiServices } from '../resolvers/context';
import { RateLimitedError } from '../rate-limits/rate-limits';
import { endsAt } from '../subscriptions/expiring-stream';
import { sharedSubscribe } from '../subscriptions/shared-execution';
import { sharedPayloads } from '../subscriptions/shared-payloads';
import { clientAddress } from './client-address';
import { formatGraphQLErrors } from './format-error';
import { countSocket, countSubscriptions } from './websocket-metrics';
import { operationCostError, screenOperation, type OperationLimits } from './operation-limits';

export interface SubscriptionServerOptions {
  readonly httpServer: Server;
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly services: ApiServices;
  /** What access tokens must satisfy (JWT_* settings). */
  readonly tokens: TokenPolicy;
  /** Answer introspection (GRAPHQL_INTROSPECTION); off, `__schema` and `__type` are refused as over HTTP. */
  readonly introspection: boolean;
  readonly limits: OperationLimits;
  readonly log: Logger;
  /** How often every socket is pinged; one that has not answered the previous ping is dropped. @default 12000 */
  readonly keepAliveMs?: number;
}

/**
 * The subscription fields whose payload depends only on the event and the arguments: routing
 * (src/subscriptions/subscriber-index.ts) already decided who may receive each event, so one
 * execution and one serialisation per event serve every subscriber that asked the same.
 * A field whose resolvers read the context (the viewer) must not be listed.
 */
export const VIEWER_INDEPENDENT_SUBSCRIPTIONS: ReadonlySet<string> = new Set(['orderConfirmed', 'orderStatusChanged', 'analyticsUpdated']);

/** Distinct operation texts whose parsed and validated document is kept (apps send the same few). */
const DOCUMENT_CACHE_SIZE = 500;

type Checked =
  | { readonly document: DocumentNode; readonly errors: null; readonly limitErrors: Map<string, GraphQLError | null> }
  | { readonly document: null; readonly errors: readonly GraphQLError[] };

/** Operation-limit verdicts kept per document, by operation name and variables. */
const LIMIT_CACHE_SIZE = 100;

/** How long a stopping server waits for clients to answer its close frame before dropping them. */
const CLOSE_HANDSHAKE_MS = 2000;

/** Sockets are pinged in this many groups, one group per keepAliveMs / KEEP_ALIVE_SLICES. */
const KEEP_ALIVE_SLICES = 12;

/**
 * Parse and validate once per operation text: every subscriber of an app sends the same
 * query, and each would otherwise keep its own syntax tree (about 12 KB, tokens and locations)
 * for as long as it stays subscribed. Least recently used texts are forgotten first.
 */
function documentCache(schema: GraphQLSchema, limits: OperationLimits, rules: readonly ValidationRule[], size: number): (query: string) => Checked {
  const cache = new Map<string, Checked>();
  return (query) => {
    let checked = cache.get(query);
    if (checked) {
      cache.delete(query);
    } else {
      checked = check(schema, query, limits, rules);
      if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    }
    cache.set(query, checked);
    return checked;
  };
}

/** The query limits first (tokens while parsing, then depth, aliases, directives), then graphql-js's validation, its errors bounded. */
function check(schema: GraphQLSchema, query: string, limits: OperationLimits, rules: readonly ValidationRule[]): Checked {
  const screened = screenOperation(schema, query, limits);
  if (screened.errors) return { document: null, errors: screened.errors };
  const { document } = screened;
  const invalid = validate(schema, document, rules, { maxErrors: limits.maxErrors });
  return invalid.length > 0 ? { document: null, errors: tagged(invalid, 'GRAPHQL_VALIDATION_FAILED') } : { document, errors: null, limitErrors: new Map() };
}

/** The cost-limit verdict of a checked document with these variables, computed once for each. */
function limitError(
  schema: GraphQLSchema,
  checked: Extract<Checked, { errors: null }>,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  limits: OperationLimits,
): GraphQLError | null {
  const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  let verdict = checked.limitErrors.get(key);
  if (verdict === undefined) {
    verdict = operationCostError(schema, checked.document, operationName, variables ?? undefined, limits);
    if (checked.limitErrors.size >= LIMIT_CACHE_SIZE) checked.limitErrors.clear();
    checked.limitErrors.set(key, verdict);
  }
  return verdict;
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

function tagged(errors: readonly GraphQLError[], code: string): GraphQLError[] {
  return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code } }));
}

/** What graphql-ws keeps per socket besides its own state: the socket, where from, and who opened it. */
interface SocketExtra {
  readonly socket: WebSocket;
  /** The client address (TRUST_PROXY_HOPS applied): anonymous attempts are counted by it. */
  readonly address: string;
  /** Names the socket for its subscribe budget. */
  readonly serial: number;
  identity?: Identity;
}

/**
 * Closes a socket over one of its user's limits (too many open, too many opened lately) or its
 * address's. 4429 is final for graphql-ws clients: they do not reconnect by themselves, and the
 * reason says when the app may.
 */
export const TOO_MANY_CLOSE_CODE = 4429;

/** Closes a socket whose reader let more than WS_MAX_BUFFERED_BYTES wait; the app reconnects and catches up. */
export const SLOW_READER_CLOSE_CODE = 4413;

/** How long a slow reader has to read up to the close frame before it is dropped. */
const SLOW_READER_GRACE_MS = 10_000;

/** The budget's refusal, or null when it had room. */
async function refusal(consume: Promise<void>): Promise<RateLimitedError | null> {
  try {
    await consume;
    return null;
  } catch (error) {
    if (error instanceof RateLimitedError) return error;
    throw error;
  }
}

/** WebSocket close reasons are limited to 123 bytes. */
const closeReason = (text: string) => text.slice(0, 120);

/**
 * graphql-ws on the HTTP server's port and path. The token is verified when the socket
 * connects (a missing, bad or expired one closes it with 4401); GraphiQL also sends headers
 * per operation, and a token there is verified the same way and wins for that operation.
 *
 * Bound to ws here rather than through graphql-ws's useServer, for what many idle sockets and
 * wide fanout cost: one keep-alive sweep for all sockets instead of a timer per socket, the
 * upgrade request not kept for the socket's life, parsed documents shared, and each event's
 * result executed and serialised once for all the subscribers that asked the same.
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions): { dispose(): Promise<void> } {
  const { httpServer, path, schema, services, tokens, limits, log } = options;
  const caps = services.config.limits;
  const { rateLimits } = services;
  /** Open sockets per user on this instance. */
  const openSockets = new Map<string, number>();
  const shared = sharedSubscribe({ viewerIndependentFields: VIEWER_INDEPENDENT_SUBSCRIPTIONS });
  const keepAliveMs = options.keepAliveMs ?? 12_000;
  const wss = new WebSocketServer({ server: httpServer, path, maxPayload: limits.maxBodyBytes, handleProtocols });
  const rules = options.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  const checkedDocument = documentCache(schema, limits, rules, DOCUMENT_CACHE_SIZE);
  const payloads = sharedPayloads();
  const serverOptions: ServerOptions<Record<string, unknown> | undefined, SocketExtra> = {
    schema,
    // Each event re-checks the expiry of the token that authorised its operation (a per-operation
    // token may expire before the socket's): the stream then ends with UNAUTHENTICATED.
    subscribe: async (args) => {
      const stream = await shared(args);
      const viewer = (args.contextValue as ApiContext).identity.viewer;
      if (!(Symbol.asyncIterator in stream) || viewer === null) return stream;
      return endsAt(stream, viewer.expiresAt * 1000, () => new UnauthenticatedError('the access token of this subscription has expired; subscribe again with a fresh one'));
    },
    jsonMessageReplacer: payloads.replacer,
    ...countSubscriptions(), // /metrics: graphql_subscriptions_active
    onConnect: async (ctx) => {
      const { socket, address } = ctx.extra;
      const identity = await identify(authorizationIn(ctx.connectionParams), tokens);
      if (identity.viewer === null) {
        const limited = await refusal(rateLimits.anonymous.consume(address));
        socket.close(limited ? TOO_MANY_CLOSE_CODE : CloseCode.Unauthorized, closeReason(limited ? limited.message : `Unauthorized: ${identity.problem}`));
        return false;
      }
      const userId = identity.viewer.id;
      // Counted before any await, so sockets opening together cannot all slip under the cap.
      const open = openSockets.get(userId) ?? 0;
      if (open >= caps.maxSocketsPerUser) {
        socket.close(TOO_MANY_CLOSE_CODE, closeReason(`too many open sockets for this user (at most ${caps.maxSocketsPerUser}); close one first`));
        return false;
      }
      openSockets.set(userId, open + 1);
      socket.once('close', () => {
        const left = (openSockets.get(userId) ?? 1) - 1;
        if (left > 0) openSockets.set(userId, left);
        else openSockets.delete(userId);
      });
      const limited = await refusal(rateLimits.sockets.consume(userId));
      if (limited) {
        socket.close(TOO_MANY_CLOSE_CODE, closeReason(limited.message));
        return false;
      }
      ctx.extra.identity = identity;
      closeWhenExpired(socket, identity.viewer.expiresAt);
      return true;
    },
    onSubscribe: async (ctx, _id, payload) => {
      // graphql-ws has already registered this operation, so it counts itself. The socket stays
      // open: a refused operation gets its error, the others run on.
      const running = Object.keys(ctx.subscriptions).length;
      if (running > caps.maxSubscriptionsPerSocket) {
        const tooMany = new RateLimitedError(`this socket already runs ${running - 1} operations (at most ${caps.maxSubscriptionsPerSocket}); complete one first`, null);
        return [new GraphQLError(tooMany.message, { originalError: tooMany })];
      }
      const limited = await refusal(rateLimits.subscribes.consume(String(ctx.extra.serial)));
      if (limited) return [new GraphQLError(limited.message, { originalError: limited })];
      const checked = checkedDocument(payload.query);
      if (checked.errors) return [...checked.errors];
      const { document } = checked;
      // graphql-ws throws (not answers) when it cannot pick the operation: say so for this operation.
      if (!getOperationAST(document, payload.operationName)) {
        const which = payload.operationName ? `no operation named "${payload.operationName}"` : 'several operations and no operationName';
        return [new GraphQLError(`the document has ${which}`, { extensions: { code: 'BAD_USER_INPUT' } })];
      }
      const tooBig = limitError(schema, checked, payload.operationName, payload.variables, limits);
      if (tooBig) return [tooBig];
      const headers = (payload.extensions as { headers?: unknown } | undefined)?.headers;
      const perOperation = authorizationIn(headers);
      const identity = perOperation ? await identify(perOperation, tokens) : (ctx.extra.identity as Identity);
      const contextValue: ApiContext = { identity, services };
      return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
    },
    // Without errors the result goes out as it is: the same object for every subscriber of
    // the event, which sharedPayloads then serialises once.
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatGraphQLErrors(result.errors, log) } : result),
    onError: (_ctx, _id, _payload, errors) => formatGraphQLErrors(errors, log),
  };
  const server = makeServer(serverOptions);
  /** Sockets that answered their last ping (or have not been pinged yet). */
  const answered = new WeakSet<WebSocket>();
  /** Which keep-alive slice each socket is in: a socket is visited every keepAliveMs, a slice at a time. */
  const sliceOf = new WeakMap<WebSocket, number>();
  let connections = 0;

  wss.once('error', (error) => {
    log.error({ err: error }, 'the WebSocket server failed; closing its sockets');
    for (const socket of wss.clients) socket.close(CloseCode.InternalServerError, 'Internal server error');
  });
  wss.on('connection', (socket, request) => {
    const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], caps.trustProxyHops);
    countSocket(socket); // /metrics: graphql_websockets_active
    socket.on('error', (error) => {
      log.warn({ err: error }, 'a WebSocket failed');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    answered.add(socket);
    sliceOf.set(socket, connections++ % KEEP_ALIVE_SLICES);
    socket.on('pong', () => answered.add(socket));
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            const text = payloads.fill(data);
            if (socket.readyState !== socket.OPEN) return resolve();
            if (socket.bufferedAmount + text.length > caps.maxBufferedBytes) {
              // The reader is not keeping up: close rather than hold its backlog. The close frame
              // queues behind what is buffered; a reader that never gets there is dropped.
              log.warn({ bufferedBytes: socket.bufferedAmount }, 'closing a WebSocket whose reader is too slow');
              socket.close(SLOW_READER_CLOSE_CODE, 'Too slow: reconnect and catch up');
              setTimeout(() => socket.terminate(), SLOW_READER_GRACE_MS).unref();
              return resolve();
            }
            socket.send(text, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              log.error({ err: error }, 'a WebSocket message could not be handled');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, address, serial: connections },
    );
    socket.once('close', (code, reason) => {
      closed(code, String(reason)).catch((error: unknown) => log.error({ err: error }, 'a closed WebSocket could not be released'));
    });
  });

  // One timer pings every socket once per keepAliveMs, a slice of them per tick (ten thousand
  // pings at once would hold deliveries up); a socket that did not answer its last ping is dropped.
  let tick = 0;
  const keepAlive = setInterval(() => {
    const slice = tick++ % KEEP_ALIVE_SLICES;
    for (const socket of wss.clients) {
      if (sliceOf.get(socket) !== slice || socket.readyState !== socket.OPEN) continue;
      if (!answered.has(socket)) {
        socket.terminate();
        continue;
      }
      answered.delete(socket);
      socket.ping();
    }
  }, keepAliveMs / KEEP_ALIVE_SLICES);
  keepAlive.unref();

  let disposed: Promise<void> | undefined;
  return {
    dispose: () =>
      (disposed ??= (async () => {
        clearInterval(keepAlive);
        // 1001 Going Away: the server is stopping; the client reconnects (to another instance).
        for (const socket of wss.clients) socket.close(1001, 'Going away');
        // A client that does not answer the closing handshake is not waited for (ws would wait 30 s).
        const impatience = setTimeout(() => {
          for (const socket of wss.clients) socket.terminate();
        }, CLOSE_HANDSHAKE_MS);
        wss.removeAllListeners();
        await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
        clearTimeout(impatience);
      })()),
  };
}
