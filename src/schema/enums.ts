import 'reflect-metadata';
import { registerEnumType } from 'type-graphql';
import { ROLES, type Role } from '../auth/viewer';
import { ORDER_STATUSES, type OrderStatus } from '../domain/order-status';

const valuesOf = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

/** GraphQL `OrderStatus`: the domain's statuses, one for one. */
export const OrderStatusEnum: { readonly [K in OrderStatus]: K } = valuesOf(ORDER_STATUSES);
/** GraphQL `Role`: the token roles. */
export const RoleEnum: { readonly [K in Role]: K } = valuesOf(ROLES);

registerEnumType(OrderStatusEnum, {
  name: 'OrderStatus',
  valuesConfig: {
    PLACED: { description: 'Accepted by the API; the order.placed event is in Kafka.' },
    CONFIRMED: { description: 'Payment captured by the transactions consumer.' },
    PAYMENT_FAILED: { description: 'Payment declined; terminal.' },
    PREPARING: { description: 'The restaurant accepted and is cooking.' },
    DELIVERED: { description: 'Terminal.' },
    CANCELLED: { description: 'Terminal; a captured payment is refunded.' },
  },
});
registerEnumType(RoleEnum, { name: 'Role' });
