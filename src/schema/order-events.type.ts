import 'reflect-metadata';
import { Field, ID, ObjectType } from 'type-graphql';
import type { OrderStatus as DomainOrderStatus } from '../domain/order-status';
import type { OrderConfirmed } from '../events/order-events';
import type { StatusUpdate } from '../subscriptions/status-tracker';
import { OrderStatusEnum } from './enums';
import { DateTimeScalar, SafeIntScalar } from './scalars';

@ObjectType({ description: 'Payment was captured: streamed from the order.confirmed topic.' })
export class OrderConfirmation {
  @Field(() => ID) orderId!: string;
  @Field(() => ID) customerId!: string;
  @Field(() => ID) restaurantId!: string;
  @Field(() => SafeIntScalar) totalCents!: number;
  @Field(() => ID) transactionId!: string;
  @Field(() => DateTimeScalar) confirmedAt!: Date;

  static from({ data }: OrderConfirmed): OrderConfirmation {
    const { orderId, customerId, restaurantId, totalCents, transactionId } = data;
    return Object.assign(new OrderConfirmation(), { orderId, customerId, restaurantId, totalCents, transactionId, confirmedAt: new Date(data.confirmedAt) });
  }
}

@ObjectType({ description: 'An order moved to a new status: streamed from the order.status-changed topic.' })
export class OrderStatusUpdate {
  @Field(() => ID) orderId!: string;
  @Field(() => ID) customerId!: string;
  @Field(() => ID, { description: 'Added to the contract: lets a restaurant app route the update.' }) restaurantId!: string;
  @Field(() => OrderStatusEnum) status!: DomainOrderStatus;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => String, { nullable: true }) reason!: string | null;

  static from(update: StatusUpdate): OrderStatusUpdate {
    const { orderId, customerId, restaurantId, status, reason } = update;
    return Object.assign(new OrderStatusUpdate(), { orderId, customerId, restaurantId, status, reason, at: new Date(update.at) });
  }
}
