import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler } from 'express';
import { identify } from '../auth/access-token';
import { describeDevelopmentTokens, developmentTokens, type DevelopmentTokens } from '../auth/dev-tokens';
import { CATALOG } from '../catalog/catalog.fixture';
import type { Config } from '../config';
import type { Restaurant } from '../domain/catalog';
import type { Logger } from '../logger';
import { metricsRoute } from '../metrics/metrics-route';
import { processMetrics } from '../metrics/process-metrics';
import { probeRoutes } from '../probes/probe-routes';
import type { ApiContext } from '../resolvers/context';
import type { EventPubSubOptions } from '../subscriptions/event-pubsub';
import { openApiServices, type OpenedApiServices } from './api-services';
import { buildApiSchema } from './build-schema';
import { formatApiError } from './format-error';
import { DASHBOARD_PATH, dashboardRoutes } from './dashboard';
import { graphiqlPage, graphiqlRoute } from './graphiql';
import { metricsPlugin } from './metrics-plugin';
import { DEFAULT_LIMITS, operationCostPlugin, operationLimitsGate, subscriptionsOverHttpRefused, type OperationLimits } from './operation-limits';
import { anonymousLimit, identityOf, rateLimitedStatusPlugin } from './rate-limit-http';
import { requestTracing } from './request-tracing';
import { attachSubscriptionServer } from './websocket';

export const GRAPHQL_PATH = '/graphql';

export interface ApiServerOptions {
  /** Listen here instead of config.http.port; 0 picks a free port (tests run several instances). */
  readonly port?: number;
  /** Request limits. @default DEFAULT_LIMITS */
  readonly limits?: Partial<OperationLimits>;
  /** Restaurants upserted at start. @default CATALOG */
  readonly catalog?: readonly Restaurant[];
  /** Names this instance's consumer groups; must differ per process. @default host-pid-random */
  readonly instanceId?: string;
  /** Told of each streamed event as it arrives (measurements only; see EventPubSubOptions.onArrival). */
  readonly onSubscriptionEvent?: EventPubSubOptions['onArrival'];
  /** Resolver classes added to the schema (SchemaOptions.extraResolvers), e.g. a benchmark's baseline mutation. @default none */
  readonly extraResolvers?: readonly Function[];
  /** How long stop() keeps serving with /readyz at 503 before it closes. @default READINESS_GRACE_MS */
  readonly readinessGraceMs?: number;
  /** This process's MongoDB client lost a store that answers others (mongo/store-watch.ts); the process should restart. @default logged only */
  readonly onStoreWedged?: (why: string) => void;
}

/**
 * How long a stopping API keeps answering, with /readyz at 503, before it closes its port:
 * long enough for a load balancer probing every second or two to stop sending it requests.
 */
export const READINESS_GRACE_MS = 2000;

export interface ApiServer {
  /** `http://host:port/graphql`; the WebSocket endpoint is the same with ws://. */
  readonly graphqlUrl: string;
  readonly websocketUrl: string;
  /** Printed at a development start without JWT_SECRET (config.demoTokens); null otherwise. */
  readonly developmentTokens: DevelopmentTokens | null;
  /** Resolves once subscriptions receive every event produced from now on. */
  subscriptionsReady(): Promise<void>;
  /** Stops accepting, closes sockets, disposes subscriptions (deleting their groups), disconnects. Idempotent. */
  stop(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/** Body-parser refusals answered in the GraphQL error shape rather than as HTML. */
const bodyErrors: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, next) => {
  if (error.status === 413) return void res.status(413).json({ errors: [{ message: 'the request body is too large', extensions: { code: 'BAD_USER_INPUT' } }] });
  if (error.status === 400) return void res.status(400).json({ errors: [{ message: 'the request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
  next(error);
};

interface ServedGraphql {
  readonly graphqlUrl: string;
  readonly developmentTokens: DevelopmentTokens | null;
  /** WebSockets first (with their close frame), then Apollo's drain of HTTP. */
  close(): Promise<void>;
}

/**
 * Serves GraphQL over the opened services: Apollo over express and graphql-ws on the same port
 * and path, with the probes, /metrics and (in development) GraphiQL beside them. On a failed
 * start Apollo is stopped again; the services are the caller's to close.
 */
async function serveGraphql(
  { services, tokenPolicy, instanceId, probes: checks }: OpenedApiServices,
  { options, catalog, isStopping }: { options: ApiServerOptions; catalog: readonly Restaurant[]; isStopping: () => boolean },
): Promise<ServedGraphql> {
  const { config, log, pubSub, rateLimits } = services;
  const limits: OperationLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const schema = await buildApiSchema({ pubSub, extraResolvers: options.extraResolvers });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  // The request span (tracing on; nothing otherwise): request-tracing.ts.
  const traced = requestTracing();
  const ws = attachSubscriptionServer({ httpServer, path: GRAPHQL_PATH, schema, services, tokens: tokenPolicy, introspection: config.graphql.introspection, limits, log });
  const apollo = new ApolloServer<ApiContext>({
    schema,
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    // The limits gate (below) has refused token floods already; this bounds Apollo's own parse
    // too, and its validation answers at most maxErrors errors (then one saying it stopped).
    parseOptions: { maxTokens: limits.maxTokens },
    validationOptions: { maxErrors: limits.maxErrors },
    // The process (src/api.ts) owns signals; Apollo's own handler would re-raise them mid-shutdown.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatApiError(formatted, error, log),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      metricsPlugin(),
      ...traced.plugins,
      { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) },
      operationCostPlugin(limits),
      subscriptionsOverHttpRefused(),
      rateLimitedStatusPlugin(),
      // Apollo's own landing pages load from a CDN; GraphiQL is served below instead.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  const warnOnFailure = (what: string) => (error: unknown) => log.warn({ err: error }, `error while ${what}`);
  try {
    // /livez, /readyz (and /health) on the API's own port; readiness covers the live events too.
    const probes = probeRoutes(checks, isStopping);
    // /metrics beside them: this process's series (src/metrics).
    const metrics = metricsRoute(processMetrics().registry);
    app.use((req, res, next) => {
      if (!probes(req, res) && !metrics(req, res)) next();
    });
    const restaurantId = catalog[0]?.id ?? 'none';
    // Configuration decides: demo tokens only in development with the secret generated for this run.
    const tokens = config.demoTokens && !config.jwtSecret ? await developmentTokens(tokenPolicy, restaurantId) : null;
    const graphiql = config.graphql.graphiql;
    if (graphiql) app.get(GRAPHQL_PATH, graphiqlRoute(graphiqlPage({ endpoint: GRAPHQL_PATH, token: tokens?.customer ?? null })));
    // The operations dashboard (src/http/dashboard.ts); in development it opens with the demo admin token.
    if (config.dashboard.enabled) app.use(dashboardRoutes({ graphqlPath: GRAPHQL_PATH, token: tokens?.admin ?? null }));
    const identifyRequest = (authorization: unknown) => identify(authorization, tokenPolicy);
    app.use(
      GRAPHQL_PATH,
      // Before the body is even parsed: requests without a valid token are counted per address.
      anonymousLimit({ limiter: rateLimits.anonymous, trustProxyHops: config.limits.trustProxyHops, identify: identifyRequest }),
      express.json({ limit: limits.maxBodyBytes }),
      ...traced.middleware,
      operationLimitsGate(schema, limits),
      expressMiddleware(apollo, {
        context: async ({ req, res }) => ({
          identity: identityOf(res) ?? (await identifyRequest(req.headers.authorization)),
          services,
          idempotencyKeyHeader: req.get('idempotency-key') ?? null,
        }),
      }),
    );
    app.use(bodyErrors);

    const address = await listen(httpServer, options.port ?? config.http.port, config.http.host);
    const host = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address.includes(':') ? `[${address.address}]` : address.address;
    const graphqlUrl = `http://${host}:${address.port}${GRAPHQL_PATH}`;
    log.info({ url: graphqlUrl, instanceId }, `API listening on ${graphqlUrl}`);
    const dashboardUrl = config.dashboard.enabled ? `http://${host}:${address.port}${DASHBOARD_PATH}` : null;
    if (dashboardUrl) log.info({ url: dashboardUrl }, `operations dashboard on ${dashboardUrl}`);
    if (tokens) log.info({ graphiql: graphiql ? graphqlUrl : null }, describeDevelopmentTokens(tokens, restaurantId, graphiql ? graphqlUrl : null, dashboardUrl));
    return {
      graphqlUrl,
      developmentTokens: tokens,
      close: async () => {
        // WebSockets first, with their close frame: Apollo's drain would otherwise end their
        // connections as idle HTTP ones (no close code). Apollo's own drain then finds them closed.
        await ws.dispose().catch(warnOnFailure('closing WebSockets'));
        await apollo.stop().catch(warnOnFailure('stopping the API'));
      },
    };
  } catch (error) {
    await apollo.stop().catch(warnOnFailure('stopping the API'));
    throw error;
  }
}

/**
 * Starts one API instance: opens its services (openApiServices: Mongo with the catalog
 * seeded, Kafka topics, producer and subscriptions), then serves GraphQL over them. On a failed
 * start everything already opened is closed again.
 */
export async function startApiServer(config: Config, log: Logger, options: ApiServerOptions = {}): Promise<ApiServer> {
  const catalog = options.catalog ?? CATALOG;
  const opened = await openApiServices(config, log, { catalog, instanceId: options.instanceId, onSubscriptionEvent: options.onSubscriptionEvent, onStoreWedged: options.onStoreWedged });
  let stopping = false;
  const served = await serveGraphql(opened, { options, catalog, isStopping: () => stopping }).catch(async (error: unknown) => {
    await opened.close();
    throw error;
  });

  let stopped: Promise<void> | null = null;
  return {
    graphqlUrl: served.graphqlUrl,
    websocketUrl: served.graphqlUrl.replace(/^http/, 'ws'),
    developmentTokens: served.developmentTokens,
    subscriptionsReady: () => opened.services.pubSub.ready(),
    stop: () => {
      stopping = true;
      stopped ??= (async () => {
        // Readiness fails first: load balancers stop sending requests while the port still
        // answers, then Apollo drains HTTP (in-flight requests finish) and WebSockets close (1001).
        log.info({ readinessGraceMs: READINESS_GRACE_MS }, 'stopping: readiness fails, then the API closes');
        await new Promise((resolve) => setTimeout(resolve, options.readinessGraceMs ?? READINESS_GRACE_MS));
        await served.close();
        await opened.close();
        log.info('API stopped');
      })();
      return stopped;
    },
  };
}
