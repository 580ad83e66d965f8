import 'reflect-metadata';
import { Field, ID, InputType, Int } from 'type-graphql';

// Limits are checked in the resolver with the domain's rules (one error shape, naming the
// field); the descriptions here tell app developers what those rules are.

@InputType()
export class OrderItemInput {
  @Field(() => ID) menuItemId!: string;
  @Field(() => Int, { description: '1..50' }) quantity!: number;
}

@InputType()
export class PlaceOrderInput {
  @Field(() => ID) restaurantId!: string;
  @Field(() => [OrderItemInput], { description: '1..50 lines' }) items!: OrderItemInput[];
  @Field({ description: '1..500 characters' }) deliveryAddress!: string;
  @Field({
    description:
      'Simulated payment method. "tok_visa" and "tok_mastercard" are captured; "tok_declined" is declined; "tok_slow" is captured after ~2 s.',
  })
  paymentToken!: string;
  @Field(() => String, {
    nullable: true,
    description: 'Optional client key (1..200 characters): placing the same key twice (same customer) returns the first order and charges once.',
  })
  idempotencyKey?: string | null;
}
