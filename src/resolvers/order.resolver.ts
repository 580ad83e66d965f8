import 'reflect-metadata';
import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import { requireViewer } from '../auth/guards';
import { InvalidInputError } from '../domain/domain.errors';
import { MyOrdersArgs } from '../schema/order-args';
import { OrderConnection } from '../schema/order-connection.type';
import { Order, orderViewOf } from '../schema/order.type';
import type { ApiContext } from './context';
import { findVisibleOrder, visibleOrdersFilter } from './order-access';
import { decodeCursor, encodeCursor } from './order-cursor';

/** The page size bounds of myOrders. */
export const PAGE_SIZE = { default: 20, max: 100 } as const;

@Resolver(() => Order)
export class OrderResolver {
  @Query(() => Order, { nullable: true, description: 'Own orders; ADMIN any; RESTAURANT its restaurant\'s. Others: NOT_FOUND.' })
  async order(@Arg('id', () => ID) id: string, @Ctx() { identity, services }: ApiContext): Promise<Order> {
    const viewer = requireViewer(identity);
    return Order.from(orderViewOf(await findVisibleOrder(services, viewer, id)));
  }

  @Query(() => OrderConnection, {
    description: 'Newest first: a customer\'s own orders, a restaurant\'s orders, or (ADMIN) all.',
    complexity: ({ args, childComplexity }) => 1 + childComplexity * (typeof args.first === 'number' ? Math.max(1, args.first) : PAGE_SIZE.default),
  })
  async myOrders(
    @Args(() => MyOrdersArgs) { first, after }: MyOrdersArgs,
    @Ctx() { identity, services }: ApiContext,
  ): Promise<OrderConnection> {
    const viewer = requireViewer(identity);
    const size = first ?? PAGE_SIZE.default;
    if (size < 1 || size > PAGE_SIZE.max) throw new InvalidInputError('first', `first must be from 1 to ${PAGE_SIZE.max}`);
    const filter: Record<string, unknown> = visibleOrdersFilter(viewer);
    if (after) {
      const { createdAt, id } = decodeCursor(after);
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }];
    }
    const docs = await services.orders.find(filter).sort({ createdAt: -1, _id: -1 }).limit(size + 1).lean();
    const page = docs.slice(0, size);
    const edges = page.map((doc) => ({ cursor: encodeCursor({ createdAt: doc.createdAt, id: doc._id }), node: Order.from(orderViewOf(doc)) }));
    return { edges, pageInfo: { hasNextPage: docs.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
