import 'reflect-metadata';
import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import { requireViewer } from '../auth/guards';
import type { OrderConfirmed } from '../events/order-events';
import { TOPICS } from '../events/topics';
import { OrderConfirmation, OrderStatusUpdate } from '../schema/order-events.type';
import { orderStatusStream } from './order-status-stream';
import { visibleOrderKeys } from '../subscriptions/subscriber-index';
import type { StatusUpdate } from '../subscriptions/status-tracker';
import type { ApiContext } from './context';

@Resolver()
export class OrderSubscriptionResolver {
  @Subscription(() => OrderConfirmation, {
    description: 'Streamed from the order.confirmed Kafka topic. CUSTOMER: own orders only; RESTAURANT: its restaurant\'s.',
    // Runs at subscribe time: an anonymous caller is refused before anything streams.
    topics: ({ context }) => {
      requireViewer((context as ApiContext).identity);
      return TOPICS.orderConfirmed;
    },
    // The routing keys of what the caller may see (canSeeOrder as keys): the pubsub delivers
    // only the confirmations under them, so no filter runs per subscriber and event.
    topicId: ({ context }) => visibleOrderKeys(requireViewer((context as ApiContext).identity)),
  })
  orderConfirmed(@Root() event: OrderConfirmed): OrderConfirmation {
    return OrderConfirmation.from(event);
  }

  @Subscription(() => OrderStatusUpdate, {
    description:
      'Streamed from the order.status-changed topic. CUSTOMER: own orders only. With orderId: the current status first, then every later change.',
    subscribe: ({ args, context }) => orderStatusStream(context as ApiContext, (args.orderId as string | null | undefined) ?? null),
  })
  orderStatusChanged(
    @Root() update: StatusUpdate,
    @Arg('orderId', () => ID, { nullable: true, description: 'Narrows to one order.' }) _orderId: string | null,
  ): OrderStatusUpdate {
    return OrderStatusUpdate.from(update);
  }
}
