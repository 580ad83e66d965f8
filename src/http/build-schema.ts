import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { AnalyticsResolver } from '../resolvers/analytics.resolver';
import { ConsumerLagResolver } from '../resolvers/consumer-lag.resolver';
import { OrderLifecycleResolver } from '../resolvers/order-lifecycle.resolver';
import { OrderSubscriptionResolver } from '../resolvers/order-subscription.resolver';
import { OrderResolver } from '../resolvers/order.resolver';
import { PlaceOrderResolver } from '../resolvers/place-order.resolver';
import { RestaurantResolver } from '../resolvers/restaurant.resolver';
import { ViewerResolver } from '../resolvers/viewer.resolver';

export const RESOLVERS = [
  RestaurantResolver,
  ViewerResolver,
  OrderResolver,
  PlaceOrderResolver,
  OrderLifecycleResolver,
  OrderSubscriptionResolver,
  AnalyticsResolver,
  ConsumerLagResolver,
] as const;

/** Where the SDL is committed; `npm run schema` rewrites it, a test fails when it drifts. */
export const SCHEMA_FILE = 'src/schema/schema.graphql';

export interface SchemaOptions {
  /** What subscriptions stream from: the instance's Kafka adapter, or schemaOnlyPubSub. */
  readonly pubSub: PubSub;
  /** Also write the SDL to this path. @default not written */
  readonly emitSchemaFile?: string;
  /**
   * More resolver classes, added after RESOLVERS (e.g. a benchmark's no-op mutation). Not part
   * of the public contract: the emitted SDL, the contract test and codegen use none.
   * @default none
   */
  readonly extraResolvers?: readonly Function[];
}

/** For builds that only need the SDL (emitting it, codegen, contract checks): nothing streams. */
export const schemaOnlyPubSub: PubSub = {
  publish() {},
  subscribe() {
    throw new Error('this schema was built without event streams');
  },
};

/**
 * The API's schema, code-first. Input checks live in the resolvers (with the domain's rules)
 * so every refusal has one shape; class-validator is therefore off.
 */
export function buildApiSchema(options: SchemaOptions): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS, ...(options.extraResolvers ?? [])],
    pubSub: options.pubSub,
    validate: false,
    emitSchemaFile: options.emitSchemaFile ? { path: options.emitSchemaFile, sortedSchema: false } : false,
  });
}
