import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TokenPolicy } from '../auth/access-token';
import { generateDevelopmentSecret } from '../auth/dev-tokens';
import { cachedRestaurants } from '../catalog/catalog-cache';
import { seedCatalog } from '../catalog/seed-catalog';
import type { Config } from '../config';
import type { Restaurant } from '../domain/catalog';
import { ensureTopics, TOPICS } from '../events/topics';
import { createKafka } from '../kafka/client';
import { connectEventProducer } from '../kafka/event-producer';
import { consumerLagReader } from '../kafka/lag-report';
import type { Logger } from '../logger';
import { connectMongo } from '../mongo/connection';
import { watchStoreConnection } from '../mongo/store-watch';
import { analyticsModel } from '../mongo/models/analytics.model';
import { idempotencyModel } from '../mongo/models/idempotency.model';
import { orderModel } from '../mongo/models/order.model';
import { restaurantModel } from '../mongo/models/restaurant.model';
import { collectionOf, watchReadModels } from '../mongo/read-models';
import type { ProbeCheck } from '../probes/probe-routes';
import { createRateLimits } from '../rate-limits/rate-limits';
import type { ApiServices } from '../resolvers/context';
import { createKeyClaims } from '../resolvers/idempotency-keys';
import { statusUpdateOf } from '../resolvers/order-status-stream';
import { connectEventPubSub, type EventPubSubOptions } from '../subscriptions/event-pubsub';
import { RecentStatusChanges } from '../subscriptions/status-tracker';

/** How soon an API instance reads from a read model's new collections after a replay switched it. */
const READ_MODEL_REFRESH_MS = 2_000;

export interface ApiServicesOptions {
  /** Restaurants upserted at start. */
  readonly catalog: readonly Restaurant[];
  /** Names this instance's consumer groups; must differ per process. @default host-pid-random */
  readonly instanceId?: string;
  /** Told of each streamed event as it arrives (measurements only; see EventPubSubOptions.onArrival). */
  readonly onSubscriptionEvent?: EventPubSubOptions['onArrival'];
  /** This process's MongoDB client lost a store that answers others. @default logged only */
  readonly onStoreWedged?: (why: string) => void;
}

/** What one API instance serves GraphQL with, and how to close it again. */
export interface OpenedApiServices {
  readonly services: ApiServices;
  readonly instanceId: string;
  /** How access tokens are verified (a generated secret without JWT_SECRET). */
  readonly tokenPolicy: TokenPolicy;
  /** Readiness: MongoDB and Kafka answer, the subscriptions' consumers are healthy. */
  readonly probes: readonly ProbeCheck[];
  /** Closes in the reverse order of opening: read models, subscriptions, producer, admin, rate limits, MongoDB. */
  close(): Promise<void>;
}

/**
 * Opens what the API's resolvers work with (the API's twin of the consumer runner's
 * openResources): MongoDB with the catalog seeded and the idempotency indexes built, the rate
 * limits' store, Kafka (topics ensured, the producer, one subscription group per streamed
 * topic) and the read models' pointers. On a failure whatever opened is closed again.
 */
export async function openApiServices(config: Config, log: Logger, options: ApiServicesOptions): Promise<OpenedApiServices> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closeOne of closers.splice(0).reverse()) {
      await closeOne().catch((error: unknown) => log.warn({ err: error }, 'error while stopping the API'));
    }
  };
  try {
    const instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    // Without JWT_SECRET (never in production) the secret lives as long as this process.
    const tokenPolicy: TokenPolicy = { secret: config.jwtSecret ?? generateDevelopmentSecret(), ...config.tokens };
    if (!config.jwtSecret) log.warn('JWT_SECRET is not set: tokens are verified with a secret generated for this run');

    const mongo = await connectMongo(config, log);
    closers.push(() => mongo.close());
    // A driver that lost the store for good answers UNAVAILABLE forever: only a fresh process heals it.
    const storeWatch = watchStoreConnection(mongo, {
      config,
      log,
      onWedged: (why) => {
        log.fatal(why);
        options.onStoreWedged?.(why);
      },
    });
    closers.push(async () => storeWatch.stop());
    const restaurants = restaurantModel(mongo);
    const idempotency = idempotencyModel(mongo);
    await idempotency.init();
    await seedCatalog(restaurants, options.catalog);
    const rateLimits = await createRateLimits(config.limits, { db: mongo.db ?? undefined, log });
    closers.push(async () => rateLimits.stop());

    const kafka = createKafka(config, `api-${instanceId}`, log);
    const admin = kafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await ensureTopics(admin, config, log);
    const events = await connectEventProducer(kafka, config);
    closers.push(() => events.disconnect());
    const pubSub = await connectEventPubSub({ kafka, admin, config, log, instanceId, onArrival: options.onSubscriptionEvent });
    closers.push(() => pubSub.dispose());
    const recentStatus = new RecentStatusChanges();
    pubSub.listen(TOPICS.orderStatusChanged, (event) => recentStatus.record(statusUpdateOf(event)));

    // The orders and analytics read models are read where their pointer says (a replay may switch them).
    const readModels = await watchReadModels(mongo, { intervalMs: READ_MODEL_REFRESH_MS, log });
    closers.push(async () => readModels.stop());
    const services: ApiServices = {
      config,
      log,
      get orders() {
        return orderModel(mongo, collectionOf('orders', readModels.generation('orders')));
      },
      restaurants,
      restaurantById: cachedRestaurants(restaurants),
      idempotency,
      keyClaims: createKeyClaims(idempotency),
      get analytics() {
        return analyticsModel(mongo, collectionOf('analytics', readModels.generation('analytics')));
      },
      events,
      pubSub,
      recentStatus,
      rateLimits,
      consumerLag: consumerLagReader({ admin, config, log }),
      now: () => new Date(),
    };
    const probes: ProbeCheck[] = [
      { name: 'mongo', check: async () => mongo.readyState === 1 && (await mongo.db?.command({ ping: 1 }))?.ok === 1 },
      { name: 'kafka', check: async () => (await admin.describeCluster()).brokers.length > 0 },
      { name: 'subscriptions', check: async () => pubSub.problem() ?? true },
    ];
    return { services, instanceId, tokenPolicy, probes, close };
  } catch (error) {
    await close();
    throw error;
  }
}
