import { getIntrospectionQuery } from 'graphql';

/** What GraphiQL sends when it opens (graphql-js's query with GraphiQL's options: 9 levels of ofType): the limits must let it pass. */
export const GRAPHIQL_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
  typeDepth: 9,
} as Parameters<typeof getIntrospectionQuery>[0]);
