import { canSeeOrder, type Viewer } from '../auth/viewer';
import type { OrderDocument } from '../mongo/models/order.model';
import type { ApiServices } from './context';
import { checkId } from '../domain/text-input';
import { NotFoundError } from './resolver.errors';

/** The order from the read model when `viewer` may see it; NOT_FOUND alike when absent or not theirs. */
export async function findVisibleOrder(services: ApiServices, viewer: Viewer, orderId: string): Promise<OrderDocument> {
  const order = await services.orders.findById(checkId('id', orderId)).lean();
  if (!order || !canSeeOrder(viewer, order)) throw new NotFoundError('order', orderId);
  return order;
}

/** Which orders a caller lists: a customer its own, a restaurant its restaurant's, an admin all. */
export function visibleOrdersFilter(viewer: Viewer): Record<string, string> {
  switch (viewer.role) {
    case 'CUSTOMER':
      return { customerId: viewer.id };
    case 'RESTAURANT':
      return { restaurantId: viewer.restaurantId ?? '' };
    case 'ADMIN':
      return {};
  }
}
