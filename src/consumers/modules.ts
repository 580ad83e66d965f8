import { createAnalyticsConsumer } from './analytics.consumer';
import { createConfirmationsConsumer } from './confirmations.consumer';
import { createOrderAuthority } from './order-authority.consumer';
import { createOrdersProjector } from './orders-projector.consumer';
import { createTransactionsConsumer } from './transactions.consumer';

/**
 * Every consumer module of the product, by the name of its process entry
 * (`node dist/consumers/<name>.js`) and default consumer group. `./dev up`, docker compose, the
 * benchmarks and the drills take the list from here, so a new module is added in one place
 * (and its entry file beside it).
 */
export const CONSUMER_MODULES = {
  transactions: () => createTransactionsConsumer(),
  'order-authority': () => createOrderAuthority(),
  confirmations: () => createConfirmationsConsumer(),
  analytics: () => createAnalyticsConsumer(),
  'orders-projector': () => createOrdersProjector(),
} as const;

export type ConsumerModuleName = keyof typeof CONSUMER_MODULES;

export const CONSUMER_MODULE_NAMES = Object.keys(CONSUMER_MODULES) as ConsumerModuleName[];
