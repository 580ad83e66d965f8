import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import type { RequestHandler } from 'express';
import {
  GraphQLError,
  getNullableType,
  isListType,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
// The CommonJS build, always: its ESM build would load graphql's ESM copy, a second "realm"
// that the schema (built through type-graphql's CommonJS graphql) refuses.
import { fieldExtensionsEstimator, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity/cjs';
import type { ErrorCode } from '../errors';

/**
 * What one GraphQL operation may ask for, over HTTP and WebSocket alike. Tokens are counted
 * while parsing (a flood stops before any validation work), then GraphQL Armor's rules for
 * depth, aliases and directives run on their own, before graphql-js's validation; only an
 * operation within them is validated and priced. Every limit answers with its own code.
 */
export interface OperationLimits {
  /** Lexical tokens in the document; parsing stops at the next one (TOO_MANY_TOKENS). GraphiQL's introspection query has 184. @default 1000 */
  readonly maxTokens: number;
  /** Deepest field nesting, introspection fields counted, fragments inlined (QUERY_TOO_DEEP). GraphiQL's introspection query nests 15. @default 15 */
  readonly maxDepth: number;
  /** Aliased fields in an operation, fragments included (TOO_MANY_ALIASES). @default 15 */
  readonly maxAliases: number;
  /** Directives in an operation, fragments included (TOO_MANY_DIRECTIVES). @default 20 */
  readonly maxDirectives: number;
  /** Cost of the API's fields: 1 per field, list fields times their page size (QUERY_TOO_COSTLY). @default 5000 */
  readonly maxCost: number;
  /**
   * Cost of introspection (`__schema`, `__type`): 1 per field, every introspection list counted
   * as INTROSPECTION_LIST_SIZE entries, so nesting lists in lists grows as the answer does
   * (QUERY_TOO_COSTLY). GraphiQL's full introspection query costs 51,863. @default 100000
   */
  readonly maxIntrospectionCost: number;
  /** Validation errors in one answer; graphql-js adds one saying it stopped. @default 10 */
  readonly maxErrors: number;
  /** Largest HTTP body or WebSocket message. @default 64 KiB */
  readonly maxBodyBytes: number;
}

export const DEFAULT_LIMITS: OperationLimits = {
  maxTokens: 1000,
  maxDepth: 15,
  maxAliases: 15,
  maxDirectives: 20,
  maxCost: 5000,
  maxIntrospectionCost: 100_000,
  maxErrors: 10,
  maxBodyBytes: 64 * 1024,
};

/** How many entries each introspection list (types, fields, args…) is assumed to hold when pricing. */
export const INTROSPECTION_LIST_SIZE = 10;

/** A refusal about the request itself: safe to show, HTTP 400. */
function limitError(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/** Armor's rules report through the validation context, with our code, instead of throwing. */
function reportAs(code: ErrorCode) {
  return {
    exposeLimits: true,
    propagateOnRejection: false,
    // Armor words its refusals as "Syntax Error: …"; they are not syntax errors.
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(limitError(code, error.message.replace(/^Syntax Error: /, '')))],
  };
}

/** GraphQL Armor's depth, alias and directive rules with these limits. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: false, flattenFragments: true, ...reportAs('QUERY_TOO_DEEP') }),
    maxAliasesRule({ n: limits.maxAliases, ...reportAs('TOO_MANY_ALIASES') }),
    maxDirectivesRule({ n: limits.maxDirectives, ...reportAs('TOO_MANY_DIRECTIVES') }),
  ] as ValidationRule[];
}

/** Parses with Armor's token-counting parser: a document over maxTokens stops at the token that breaks it. */
export function parseWithinLimits(source: string, limits: OperationLimits): DocumentNode {
  let overLimit = false;
  try {
    const parser = new MaxTokensParserWLexer(source, { n: limits.maxTokens, onReject: [() => (overLimit = true)] });
    return parser.parseDocument();
  } catch (error) {
    if (overLimit) throw limitError('TOO_MANY_TOKENS', `the operation has more than ${limits.maxTokens} tokens`);
    const message = error instanceof Error ? error.message : String(error);
    throw new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } } });
  }
}

export type Screened = { readonly document: DocumentNode; readonly errors: null } | { readonly document: null; readonly errors: readonly GraphQLError[] };

/**
 * Parse within the token limit, then the limit rules alone: an operation breaking one gets
 * at most one error per limit and operation (and at most maxErrors), never graphql-js's
 * validation of all of it.
 */
export function screenOperation(schema: GraphQLSchema, source: string, limits: OperationLimits): Screened {
  let document: DocumentNode;
  try {
    document = parseWithinLimits(source, limits);
  } catch (error) {
    return { document: null, errors: [error as GraphQLError] };
  }
  const broken = validate(schema, document, limitRules(limits), { maxErrors: limits.maxErrors });
  return broken.length > 0 ? { document: null, errors: broken } : { document, errors: null };
}

/** The operation texts seen to pass, remembered so an app's repeated query is screened once. */
const PASSED_CACHE_SIZE = 500;

/**
 * Express middleware before Apollo: a request whose operation breaks a limit is answered 400
 * here, so Apollo never parses or validates it. Apollo then parses again what passed (its
 * parse cannot be replaced), once per distinct text thanks to its document cache.
 */
export function operationLimitsGate(schema: GraphQLSchema, limits: OperationLimits): RequestHandler {
  const passed = new Set<string>();
  return (req, res, next) => {
    const body: unknown = req.body;
    const query = req.method === 'GET' ? req.query.query : typeof body === 'object' && body !== null ? (body as { query?: unknown }).query : undefined;
    if (typeof query !== 'string' || passed.has(query)) return next();
    const screened = screenOperation(schema, query, limits);
    if (screened.errors) {
      const errors = screened.errors.map((e) => ({ message: e.message, ...(e.locations ? { locations: e.locations } : {}), extensions: { code: e.extensions.code } }));
      return void res.status(400).json({ errors });
    }
    if (passed.size >= PASSED_CACHE_SIZE) passed.clear();
    passed.add(query);
    next();
  };
}

const isIntrospection: (args: Parameters<ComplexityEstimator>[0]) => boolean = ({ field, type }) => field.name.startsWith('__') || type.name.startsWith('__');

/** The API's fields only: introspection is priced apart. */
const withoutIntrospection: ComplexityEstimator = (args) => (isIntrospection(args) ? 0 : undefined);

/** Introspection only: every list it returns counts as INTROSPECTION_LIST_SIZE entries. */
const introspectionOnly: ComplexityEstimator = (args) => {
  if (!isIntrospection(args)) return 0;
  return 1 + args.childComplexity * (isListType(getNullableType(args.field.type)) ? INTROSPECTION_LIST_SIZE : 1);
};

/**
 * The cost limits a valid operation breaks, or null. Run after validation, with the request's
 * variables: page sizes (`first`) may be variables or defaults, which only
 * graphql-query-complexity's field estimators see (Armor's cost rule reads literals only).
 */
export function operationCostError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
  options: { readonly introspection?: boolean } = {},
): GraphQLError | null {
  const costOf = (estimators: ComplexityEstimator[]) =>
    getComplexity({ schema, query: document, operationName: operationName ?? undefined, variables: variables ?? {}, estimators });
  let cost: number;
  let introspectionCost: number;
  try {
    cost = costOf([withoutIntrospection, fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })]);
    introspectionCost = options.introspection === false ? 0 : costOf([introspectionOnly]);
  } catch (error) {
    return new GraphQLError(error instanceof Error ? error.message : String(error), { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  }
  if (cost > limits.maxCost) return limitError('QUERY_TOO_COSTLY', `the operation costs ${cost}; at most ${limits.maxCost} is allowed (ask for fewer items)`);
  if (introspectionCost > limits.maxIntrospectionCost) {
    return limitError('QUERY_TOO_COSTLY', `the operation's introspection costs ${introspectionCost}; at most ${limits.maxIntrospectionCost} is allowed (nest fewer lists)`);
  }
  return null;
}

/**
 * Subscriptions are served over WebSocket only: over HTTP graphql-js would run a subscription
 * field's resolver without an event, an internal error. Refused as the request's fault, 400.
 */
export function subscriptionsOverHttpRefused(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions are served over WebSocket (graphql-transport-ws) at this same path, not over HTTP', {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/**
 * Whether an operation's text may ask for introspection lists (`__schema`, `__type`; not
 * `__typename`): only then is its introspection priced, a second pass over the document that
 * cost every placeOrder as much as its execution (a CPU profile of the placeOrder benchmark).
 */
export const asksIntrospection = (text: string | undefined): boolean => text === undefined || /__(schema|type)\b/.test(text);

/** Applies the cost limits to every HTTP operation once it is parsed and validated. */
export function operationCostPlugin(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const error = operationCostError(schema, document, request.operationName, request.variables, limits, { introspection: asksIntrospection(request.query) });
          if (error) throw error;
        },
      };
    },
  };
}
