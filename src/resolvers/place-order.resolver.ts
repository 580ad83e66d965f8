import 'reflect-metadata';
import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireRole } from '../auth/guards';
import { PlaceOrderInput } from '../schema/place-order.input';
import { Order } from '../schema/order.type';
import type { ApiContext } from './context';
import { chooseIdempotencyKey } from './place-order.request';
import { placeOrder } from './place-order.service';

@Resolver(() => Order)
export class PlaceOrderResolver {
  @Mutation(() => Order, {
    description: 'CUSTOMER. Prices are computed by the server from the catalog. Returns at once with status PLACED, after the event is acknowledged by Kafka.',
  })
  async placeOrder(@Arg('input', () => PlaceOrderInput) input: PlaceOrderInput, @Ctx() { identity, services, idempotencyKeyHeader }: ApiContext): Promise<Order> {
    const viewer = requireRole(identity, ['CUSTOMER'], 'placeOrder');
    await services.rateLimits.orderMutations.consume(viewer.id);
    const idempotencyKey = chooseIdempotencyKey(input.idempotencyKey ?? null, idempotencyKeyHeader ?? null);
    return Order.from(await placeOrder(services, viewer, { ...input, idempotencyKey }));
  }
}
