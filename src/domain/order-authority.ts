import { OrderTransitionError } from './domain.errors';
import { advanceOrder, cancelOrder, confirmOrder, failOrderPayment, type OrderSnapshot, type Transition } from './order';
import { canTransition, ORDER_STATUSES, type OrderStatus } from './order-status';

/*
 * The order authority's rule: every transition of an order (confirm, fail the payment, cancel,
 * advance) is decided here, one request at a time per order, on the chain of transitions the
 * authority itself accepted. Two racing requests (a cancel and an advance, a cancel and the
 * payment's confirmation) are both decided on one chain: one wins, the other is refused naming
 * the winner. Money follows only accepted outcomes.
 *
 * The chain is stored as one link per status left (`<order>:<from>`): the status machine has no
 * cycles, so an order leaves each status at most once, and "first insert wins" on that key is
 * exactly "one transition out of each status".
 */

export const TRANSITION_ACTIONS = ['confirm', 'fail-payment', 'cancel', 'advance'] as const;
export type TransitionAction = (typeof TRANSITION_ACTIONS)[number];

/** What a requester asks the authority. */
export interface TransitionRequest {
  readonly requestId: string;
  readonly orderId: string;
  readonly customerId: string;
  readonly restaurantId: string;
  readonly action: TransitionAction;
  readonly to: OrderStatus;
  readonly reason: string | null;
  readonly requestedBy: string;
}

/** One accepted transition: the order left `from` for `to`. */
export interface TransitionLink {
  readonly orderId: string;
  readonly from: OrderStatus;
  readonly to: OrderStatus;
  readonly action: TransitionAction;
  readonly requestId: string;
  readonly requestedBy: string;
  readonly reason: string | null;
  readonly at: string;
}

export type AuthorityDecision =
  /** Legal from the current status: record `link`, then announce it. */
  | { readonly kind: 'accept'; readonly link: TransitionLink }
  /** This very request was accepted before (a retry, a redelivery): answer as then. */
  | { readonly kind: 'repeat'; readonly link: TransitionLink }
  /** Not legal from the current status: `problem` says why, naming the transition that won. */
  | { readonly kind: 'reject'; readonly status: OrderStatus; readonly problem: string };

/** The statuses an order can leave: where its links are keyed. */
export const LEAVABLE_STATUSES: readonly OrderStatus[] = ORDER_STATUSES.filter((status) => ORDER_STATUSES.some((to) => canTransition(status, to)));

/** The key of the link that leaves `from`. */
export const linkId = (orderId: string, from: OrderStatus): string => `${orderId}:${from}`;

/** Where the chain has got to: every order starts PLACED and follows its links. */
export function currentStatus(links: ReadonlyMap<OrderStatus, TransitionLink>): { readonly status: OrderStatus; readonly last: TransitionLink | null } {
  let status: OrderStatus = 'PLACED';
  let last: TransitionLink | null = null;
  for (let next = links.get(status); next; next = links.get(status)) {
    last = next;
    status = next.to;
  }
  return { status, last };
}

function transitionFor(request: TransitionRequest, order: OrderSnapshot, at: string): Transition {
  switch (request.action) {
    case 'confirm':
      return confirmOrder(order, at);
    case 'fail-payment':
      return failOrderPayment(order, request.reason ?? 'payment declined', at);
    case 'cancel':
      return cancelOrder(order, request.reason, at);
    case 'advance':
      return advanceOrder(order, request.to, at);
  }
}

const DONE: Readonly<Record<TransitionAction, (to: OrderStatus) => string>> = {
  confirm: () => 'confirmed',
  'fail-payment': () => 'payment failed',
  cancel: () => 'cancelled',
  advance: (to) => `advanced to ${to}`,
};

/** Who stands behind links adopted from an order's read-model history (orders older than the authority). */
export const ADOPTED_HISTORY = 'read-model';

const describeLink = (link: TransitionLink): string =>
  `${DONE[link.action](link.to)}${link.requestedBy === ADOPTED_HISTORY ? '' : ` by ${link.requestedBy}`} at ${link.at}`;

/** PURE: the authority's decision on one request, given the order's accepted links. */
export function decideTransition(request: TransitionRequest, links: ReadonlyMap<OrderStatus, TransitionLink>, at: string): AuthorityDecision {
  const earlier = [...links.values()].find((link) => link.requestId === request.requestId);
  if (earlier) return { kind: 'repeat', link: earlier };
  const { status, last } = currentStatus(links);
  const order: OrderSnapshot = { id: request.orderId, customerId: request.customerId, restaurantId: request.restaurantId, status };
  try {
    const t = transitionFor(request, order, at);
    const link: TransitionLink = {
      orderId: t.orderId,
      from: t.from,
      to: t.to,
      action: request.action,
      requestId: request.requestId,
      requestedBy: request.requestedBy,
      reason: t.reason,
      at: t.at,
    };
    return { kind: 'accept', link };
  } catch (error) {
    if (!(error instanceof OrderTransitionError)) throw error;
    const won = last ? ` (${describeLink(last)})` : '';
    return { kind: 'reject', status, problem: `${error.message}${won}` };
  }
}

/**
 * PURE: whether an order seen at `seen` (in a read model, which lags but never leads) may yet
 * move to `to`. Statuses only move forward, so when no status reachable from `seen` allows `to`
 * the request can be refused at once, without asking the authority.
 */
export function couldStillTransition(seen: OrderStatus, to: OrderStatus): boolean {
  const reachable = new Set<OrderStatus>([seen]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const from of [...reachable]) {
      for (const next of ORDER_STATUSES) {
        if (canTransition(from, next) && !reachable.has(next)) {
          reachable.add(next);
          grew = true;
        }
      }
    }
  }
  return [...reachable].some((from) => canTransition(from, to));
}
