import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
// The CommonJS build, always: its ESM build would load graphql's ESM copy, a second "realm"
// that the schema (built through type-graphql's CommonJS graphql) refuses.
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity/cjs';

export interface OperationLimits {
  /** Deepest field nesting allowed (introspection fields not counted: GraphiQL needs them). @default 10 */
  readonly maxDepth: number;
  /** Highest cost allowed: 1 per field, list fields times their page size. @default 5000 */
  readonly maxComplexity: number;
  /** Largest HTTP body or WebSocket message. @default 64 KiB */
  readonly maxBodyBytes: number;
}

export const DEFAULT_LIMITS: OperationLimits = { maxDepth: 10, maxComplexity: 5000, maxBodyBytes: 64 * 1024 };

/** How deep the chosen operation nests fields, fragments inlined; introspection (`__*`) skipped. */
export function operationDepth(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return 0;

  const depthOf = (set: SelectionSetNode, visiting: ReadonlySet<string>): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        deepest = Math.max(deepest, 1 + (selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A cycle is a validation error reported elsewhere; do not recurse forever here.
        if (fragment && !visiting.has(name)) deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...visiting, name])));
      }
    }
    return deepest;
  };
  return depthOf(operation.selectionSet, new Set());
}

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

/** The limit a valid operation breaks, or null. Run after validation, with the request's variables. */
export function operationLimitError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
): GraphQLError | null {
  const depth = operationDepth(document, operationName);
  if (depth > limits.maxDepth) return refuse(`the operation nests ${depth} levels deep; at most ${limits.maxDepth} are allowed`);
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      operationName: operationName ?? undefined,
      variables: variables ?? {},
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (error) {
    return refuse(error instanceof Error ? error.message : String(error));
  }
  if (cost > limits.maxComplexity) return refuse(`the operation costs ${cost}; at most ${limits.maxComplexity} is allowed (ask for fewer items)`);
  return null;
}

/** Applies the limits to every HTTP operation once it is parsed and validated. */
export function operationLimitsPlugin(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const error = operationLimitError(schema, document, request.operationName, request.variables, limits);
          if (error) throw error;
        },
      };
    },
  };
}
