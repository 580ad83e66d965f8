import 'reflect-metadata';
import { Field, ObjectType } from 'type-graphql';
import { Order } from './order.type';

@ObjectType()
export class OrderEdge {
  @Field({ description: 'Opaque: pass it as `after` to continue after this order.' }) cursor!: string;
  @Field(() => Order) node!: Order;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType({ description: 'Orders newest first.' })
export class OrderConnection {
  @Field(() => [OrderEdge]) edges!: OrderEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
