import 'reflect-metadata';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { OrderStatus as DomainOrderStatus } from '../domain/order-status';
import type { PricedItem } from '../domain/pricing';
import type { OrderDocument } from '../mongo/models/order.model';
import { OrderStatusEnum } from './enums';
import { DateTimeScalar, SafeIntScalar } from './scalars';

@ObjectType({ description: 'One line of an order, priced by the server from the catalog.' })
export class OrderItem {
  @Field(() => ID) menuItemId!: string;
  @Field() name!: string;
  @Field(() => Int) quantity!: number;
  @Field(() => Int) unitPriceCents!: number;
  @Field(() => Int) lineTotalCents!: number;

  static from(item: PricedItem): OrderItem {
    const { menuItemId, name, quantity, unitPriceCents, lineTotalCents } = item;
    return Object.assign(new OrderItem(), { menuItemId, name, quantity, unitPriceCents, lineTotalCents });
  }
}

@ObjectType()
export class OrderStatusChange {
  @Field(() => OrderStatusEnum) status!: DomainOrderStatus;
  @Field(() => DateTimeScalar) at!: Date;
  @Field(() => String, { nullable: true }) reason!: string | null;

  static from(change: { status: DomainOrderStatus; at: Date | string; reason?: string | null }): OrderStatusChange {
    return Object.assign(new OrderStatusChange(), { status: change.status, at: new Date(change.at), reason: change.reason ?? null });
  }
}

/** The fields of an order as the API knows them, from the read model or from a just-placed order. */
export interface OrderView {
  readonly id: string;
  readonly customerId: string;
  readonly restaurantId: string;
  readonly items: readonly PricedItem[];
  readonly totalCents: number;
  readonly currency: string;
  readonly deliveryAddress: string;
  readonly status: DomainOrderStatus;
  readonly statusHistory: readonly { status: DomainOrderStatus; at: Date | string; reason?: string | null }[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

@ObjectType()
export class Order {
  @Field(() => ID) id!: string;
  @Field(() => ID) customerId!: string;
  @Field(() => ID) restaurantId!: string;
  @Field(() => [OrderItem]) items!: OrderItem[];
  @Field(() => SafeIntScalar, { description: 'Integer cents.' }) totalCents!: number;
  @Field() currency!: string;
  @Field({ description: 'Where the order goes (the trimmed address given at placeOrder).' }) deliveryAddress!: string;
  @Field(() => OrderStatusEnum) status!: DomainOrderStatus;
  @Field(() => [OrderStatusChange]) statusHistory!: OrderStatusChange[];
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;

  static from(view: OrderView): Order {
    return Object.assign(new Order(), {
      ...view,
      items: view.items.map((i) => OrderItem.from(i)),
      statusHistory: view.statusHistory.map((c) => OrderStatusChange.from(c)),
    });
  }
}

/** The read model's document as an OrderView. */
export function orderViewOf(doc: OrderDocument): OrderView {
  return {
    id: doc._id,
    customerId: doc.customerId,
    restaurantId: doc.restaurantId,
    items: doc.items,
    totalCents: doc.totalCents,
    currency: doc.currency,
    deliveryAddress: doc.deliveryAddress,
    status: doc.status,
    statusHistory: doc.statusHistory,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}
