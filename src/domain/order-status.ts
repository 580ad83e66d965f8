export const ORDER_STATUSES = [
  'PLACED',
  'CONFIRMED',
  'PAYMENT_FAILED',
  'PREPARING',
  'OUT_FOR_DELIVERY',
  'DELIVERED',
  'CANCELLED',
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The status machine: every legal next status of each status. */
const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PLACED: ['CONFIRMED', 'PAYMENT_FAILED', 'CANCELLED'],
  CONFIRMED: ['PREPARING', 'CANCELLED'],
  PREPARING: ['OUT_FOR_DELIVERY'],
  OUT_FOR_DELIVERY: ['DELIVERED'],
  PAYMENT_FAILED: [],
  DELIVERED: [],
  CANCELLED: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

export function isTerminal(status: OrderStatus): boolean {
  return NEXT[status].length === 0;
}

/** The kitchen-to-door steps a restaurant moves an order through, in order. */
export const FULFILMENT_STEPS: readonly OrderStatus[] = ['PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'];
