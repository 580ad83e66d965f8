import type { TopicName } from './topics';

/**
 * The product's consumer groups (a consumer module's group is its name) and the topics each
 * reads: the one home of that fact. Each consumer module takes its topics from here, and so
 * does the GraphQL side, which may not import a consumer module (.dependency-cruiser.cjs) but
 * reports each group's lag. consumer-groups.test.ts fails when a module is missing or extra.
 */
export const CONSUMER_GROUP_TOPICS = {
  transactions: ['order.placed', 'order.cancelled'],
  'order-authority': ['order.transition-requested'],
  confirmations: ['order.confirmed'],
  analytics: ['order.placed', 'order.confirmed', 'order.payment-failed', 'order.cancelled', 'order.status-changed', 'payment.refunded'],
  'orders-projector': ['order.placed', 'order.status-changed'],
} as const satisfies Readonly<Record<string, readonly TopicName[]>>;

export type ConsumerGroupName = keyof typeof CONSUMER_GROUP_TOPICS;
