import 'reflect-metadata';
import { ArgsType, Field, ID, Int } from 'type-graphql';
import type { OrderStatus } from '../domain/order-status';
import { OrderStatusEnum } from './enums';

// Argument classes keep the contract's argument order in the emitted SDL (parameter
// decorators would list them last-to-first).

@ArgsType()
export class MyOrdersArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: '1..100' }) first!: number | null;
  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' }) after!: string | null;
}

@ArgsType()
export class CancelOrderArgs {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true, description: 'At most 500 characters.' }) reason!: string | null;
}

@ArgsType()
export class AdvanceOrderArgs {
  @Field(() => ID) id!: string;
  @Field(() => OrderStatusEnum) status!: OrderStatus;
}
