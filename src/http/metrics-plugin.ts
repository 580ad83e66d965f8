import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { processMetrics } from '../metrics/process-metrics';

/** Every root field the schema has (query, mutation, subscription): the only operation labels besides "other". */
export function rootFieldNames(schema: GraphQLSchema): ReadonlySet<string> {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  return new Set(roots.flatMap((root) => (root ? Object.keys(root.getFields()) : [])));
}

/**
 * PURE: an operation's label: the first root field it selects, when the schema has it;
 * otherwise (not parsed, introspection only, a fragment at the root) "other". Clients name
 * operations as they like, and aliases too, so neither is a label: the set stays the schema's.
 */
export function operationLabel(operation: OperationDefinitionNode | undefined, rootFields: ReadonlySet<string>): string {
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD || selection.name.value.startsWith('__')) continue;
    return rootFields.has(selection.name.value) ? selection.name.value : 'other';
  }
  return 'other';
}

/** PURE: "ok", or the first error's code as the client sees it (codes come from the server only; anything odd is INTERNAL_SERVER_ERROR). */
export function outcomeLabel(errors: readonly GraphQLFormattedError[] | undefined): string {
  if (!errors || errors.length === 0) return 'ok';
  const code = errors[0]!.extensions?.code;
  return typeof code === 'string' && /^[A-Z][A-Z_]{0,39}$/.test(code) ? code : 'INTERNAL_SERVER_ERROR';
}

/**
 * Counts each GraphQL operation over HTTP and its latency, from the request's arrival at
 * Apollo to its answer, by root field, operation type and outcome (`graphql_operations_total`,
 * `graphql_operation_duration_seconds`). Subscriptions over WebSockets are counted as they
 * run instead (`graphql_subscriptions_active`, websocket.ts).
 */
export function metricsPlugin(): ApolloServerPlugin {
  const { graphql } = processMetrics();
  let rootFields: ReadonlySet<string> = new Set();
  // Label-bound children per label set: a handful of root fields × outcomes, bound once.
  const bound = new Map<string, { count: { inc(): void }; latency: { observe(seconds: number): void } }>();
  const series = (operation: string, type: string, outcome: string) => {
    const key = `${operation} ${type} ${outcome}`;
    let children = bound.get(key);
    if (!children) {
      const labels = { operation, type, outcome };
      bound.set(key, (children = { count: graphql.operations.labels(labels), latency: graphql.duration.labels(labels) }));
    }
    return children;
  };
  return {
    async serverWillStart({ schema }) {
      rootFields = rootFieldNames(schema);
    },
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation, response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
          const { count, latency } = series(operationLabel(operation ?? undefined, rootFields), operation?.operation ?? 'unknown', outcomeLabel(errors));
          count.inc();
          latency.observe((performance.now() - started) / 1000);
        },
      };
    },
  };
}
