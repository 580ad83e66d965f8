import type { Identity } from '../auth/viewer';
import type { RestaurantLookup } from '../catalog/catalog-cache';
import type { Config } from '../config';
import type { EventProducer } from '../kafka/event-producer';
import type { ConsumerLagReader } from '../kafka/lag-report';
import type { Logger } from '../logger';
import type { AnalyticsModel } from '../mongo/models/analytics.model';
import type { IdempotencyModel } from '../mongo/models/idempotency.model';
import type { OrderModel } from '../mongo/models/order.model';
import type { RestaurantModel } from '../mongo/models/restaurant.model';
import type { EventPubSub } from '../subscriptions/event-pubsub';
import type { RateLimits } from '../rate-limits/rate-limits';
import type { RecentStatusChanges } from '../subscriptions/status-tracker';
import type { KeyClaims } from './idempotency-keys';

/** What resolvers work with: one set per API instance (resolver classes themselves hold no state). */
export interface ApiServices {
  readonly config: Config;
  readonly log: Logger;
  readonly orders: OrderModel;
  readonly restaurants: RestaurantModel;
  /** The restaurant placeOrder prices from, cached for a few seconds. */
  readonly restaurantById: RestaurantLookup;
  readonly idempotency: IdempotencyModel;
  /** Inserts idempotency keys, concurrent requests sharing one insert. */
  readonly keyClaims: KeyClaims;
  /** Written only by the analytics consumer: one document per scope. */
  readonly analytics: AnalyticsModel;
  /** The API's only write on the order path. */
  readonly events: EventProducer;
  readonly pubSub: EventPubSub;
  readonly recentStatus: RecentStatusChanges;
  /** Budgets per customer, address, user and socket (config.limits). */
  readonly rateLimits: RateLimits;
  /** Every consumer group's lag from the Kafka admin API, cached a few seconds (the dashboard's lag table). */
  readonly consumerLag: ConsumerLagReader;
  readonly now: () => Date;
}

/** The GraphQL context of one HTTP request or one WebSocket operation. */
export interface ApiContext {
  readonly identity: Identity;
  readonly services: ApiServices;
  /** The request's `Idempotency-Key` header (HTTP only): placeOrder's key when its input names none. */
  readonly idempotencyKeyHeader?: string | null;
}
