/** Who may call the API. The same names are the GraphQL `Role` enum. */
export const ROLES = ['CUSTOMER', 'RESTAURANT', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** The verified caller of one request or one WebSocket connection. */
export interface Viewer {
  /** The token's `sub`: a customer id, a restaurant user id or an admin id. */
  readonly id: string;
  readonly role: Role;
  /** Present exactly when `role` is RESTAURANT: the restaurant this caller runs. */
  readonly restaurantId: string | null;
  /** Where confirmations go; optional in tokens. */
  readonly email: string | null;
  /** Token expiry, seconds since the epoch: long-lived sockets re-check it per operation. */
  readonly expiresAt: number;
}

/** Who the request turned out to be: a viewer, or why there is none (reported lazily by resolvers). */
export type Identity = { readonly viewer: Viewer } | { readonly viewer: null; readonly problem: string };

/** True when `viewer` may see an order (its own; its restaurant's; an admin any). */
export function canSeeOrder(viewer: Viewer, order: { readonly customerId: string; readonly restaurantId: string }): boolean {
  switch (viewer.role) {
    case 'ADMIN':
      return true;
    case 'CUSTOMER':
      return order.customerId === viewer.id;
    case 'RESTAURANT':
      return order.restaurantId === viewer.restaurantId;
  }
}
