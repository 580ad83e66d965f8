import { GraphQLDateTime, GraphQLSafeInt } from 'graphql-scalars';

/** The contract's `scalar DateTime` (RFC 3339 strings) and `scalar SafeInt` (53-bit integers for money). */
export const DateTimeScalar = GraphQLDateTime;
export const SafeIntScalar = GraphQLSafeInt;
