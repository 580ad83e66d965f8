import type { ApolloServerPlugin } from '@apollo/server';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { extractTraceContext } from '../tracing/kafka-headers';
import { activeTracer } from '../tracing/tracing';
import { operationLabel, outcomeLabel, rootFieldNames } from './metrics-plugin';

/**
 * The server span of each GraphQL request over HTTP, where an order's trace begins (or goes on,
 * when the app sent a `traceparent`). The middleware opens it and runs the rest of the request
 * in its context, so the events placeOrder, cancelOrder and advanceOrder publish are sent in it
 * (the producer reads the active context); the plugin names it after the operation's root field
 * (`mutation placeOrder`) and marks it failed with the error code the client got.
 *
 * Both are returned only while tracing is on (empty otherwise): the API with tracing off runs
 * no extra middleware and no extra plugin hook.
 */
export function requestTracing(): { readonly middleware: RequestHandler[]; readonly plugins: ApolloServerPlugin[] } {
  const tracer = activeTracer();
  if (tracer === null) return { middleware: [], plugins: [] };

  // After express.json(): the body parser's stream callbacks would run outside this context.
  const middleware: RequestHandler = (req, res, next) => {
    const parent = extractTraceContext(req.headers);
    const span = tracer.startSpan(`${req.method} ${req.baseUrl || req.path}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': req.originalUrl.split('?')[0] ?? '/' },
    }, parent);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };

  let rootFields: ReadonlySet<string> = new Set();
  const plugin: ApolloServerPlugin = {
    async serverWillStart({ schema }) {
      rootFields = rootFieldNames(schema);
    },
    async requestDidStart() {
      // Apollo runs its hooks in the request's context: the middleware's span is the active one.
      const span = trace.getActiveSpan();
      if (!span) return;
      return {
        async didResolveOperation({ operation }) {
          const type = operation?.operation ?? 'unknown';
          const label = operationLabel(operation ?? undefined, rootFields);
          span.updateName(`${type} ${label}`);
          // The root field, as the metrics label it: the client's own operation name is free text.
          span.setAttributes({ 'graphql.operation.type': type, 'graphql.root_field': label });
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          const outcome = outcomeLabel(errors);
          if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        },
      };
    },
  };
  return { middleware: [middleware], plugins: [plugin] };
}
