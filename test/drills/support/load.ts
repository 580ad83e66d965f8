/**
 * The drills' bounded load: concurrent customers placing a few hundred orders over HTTP
 * GraphQL, mixing tok_visa, tok_declined and tok_slow; some orders are cancelled by their
 * customer, some advanced to DELIVERED by their restaurant (never both: a cancel racing an
 * advance is drill 7's). Every request is retried the way the README tells a client to: a
 * placeOrder under its idempotency key on UNAVAILABLE or a dropped connection, a cancel or
 * advance until the read model shows the order where it can be moved. What each order was
 * answered is recorded for the audit.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import * as ops from '../../generated/graphql';
import type { OrderStatus } from '../../generated/graphql';
import { gql, tokenFor, type GraphQLAnswer } from '../../support/api-harness';
import { uniqueName } from '../../support/services';

export type PaymentToken = 'tok_visa' | 'tok_declined' | 'tok_slow';
export type Action = 'none' | 'cancel' | 'advance';

export interface LoadOrder {
  readonly n: number;
  readonly customerId: string;
  readonly paymentToken: PaymentToken;
  readonly action: Action;
  readonly cancelAtOnce: boolean;
  readonly idempotencyKey: string;
  /** The GraphQL endpoint this order's customer uses (one of LoadOptions' URLs). */
  readonly graphqlUrl: string;
  /** Set once placeOrder returned the order: it is acknowledged. */
  id?: string;
  restaurantId?: string;
  totalCents?: number;
  items?: { menuItemId: string; name: string; quantity: number }[];
  placeAttempts: number;
  /** Codes of failed attempts (UNAVAILABLE, NETWORK…), and how long each UNAVAILABLE took. */
  failures: { code: string; ms: number }[];
  /** The cancel was answered CANCELLED. */
  cancelAccepted?: boolean;
  /** The furthest status an advanceOrder answered with. */
  advancedTo?: OrderStatus;
  /** Why an action ended without its result (CONFLICT on a declined order, out of time…). */
  actionNote?: string;
}

export interface LoadOptions {
  readonly graphqlUrl: string;
  /**
   * Several API instances: customer c (and the staff advancing its orders) sends everything
   * to graphqlUrls[c % length], so each instance takes its share. @default [graphqlUrl]
   */
  readonly graphqlUrls?: readonly string[];
  readonly orders: number;
  readonly customers?: number;
  /** Names the load's customers and staff (customerOf); a subscriber set up before the load passes the same. @default a unique name */
  readonly run?: string;
  /** Placing stops trying an order after this long (the order is then not acknowledged). */
  readonly placeDeadlineMs?: number;
  /** Cancels and advances give up after this long. */
  readonly actionDeadlineMs?: number;
  /** Called after each acknowledged order (drills fire their fault at the k-th). */
  readonly onAcknowledged?: (count: number) => void;
  /** Stops placing new orders (the ones under way finish). */
  readonly signal?: AbortSignal;
  /** Each order's token and action. @default planOf */
  readonly plan?: (n: number) => { paymentToken: PaymentToken; action: Action; cancelAtOnce: boolean };
}

export interface LoadResult {
  readonly orders: LoadOrder[];
  readonly seconds: number;
  /** The longest any single request of the load waited for its answer. */
  readonly slowestAnswerMs: number;
}

const BASKETS = [
  { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }] },
  { restaurantId: 'sushi-sakura', items: [{ menuItemId: 'salmon-nigiri', quantity: 3 }, { menuItemId: 'miso-soup', quantity: 1 }] },
  { restaurantId: 'green-bowl', items: [{ menuItemId: 'falafel-bowl', quantity: 1 }, { menuItemId: 'quinoa-salad', quantity: 2 }] },
  { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'diavola', quantity: 1 }] },
] as const;

/**
 * Order n's payment token (60 % visa, 25 % declined, 15 % slow) and action: a fifth of the
 * charged orders are cancelled (half at once, racing their payment; half once CONFIRMED shows),
 * a fifth advanced to DELIVERED. Declined orders are left alone: a cancel racing a payment
 * failure decided on the read model is finding 2's (drill 7), not a fault these drills inject.
 */
export function planOf(n: number): { paymentToken: PaymentToken; action: Action; cancelAtOnce: boolean } {
  const paymentToken: PaymentToken = n % 20 < 12 ? 'tok_visa' : n % 20 < 17 ? 'tok_declined' : 'tok_slow';
  const pick = (n * 3 + Math.floor(n / 20)) % 10;
  const action: Action = paymentToken === 'tok_declined' ? 'none' : pick < 2 ? 'cancel' : pick < 4 ? 'advance' : 'none';
  return { paymentToken, action, cancelAtOnce: pick === 0 };
}

const FULFILMENT: readonly string[] = ['CONFIRMED', 'PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'];

/** Customer c of a load run: its id and its token (the one the load orders with; a subscriber may use it too). */
export async function customerOf(run: string, c: number): Promise<{ id: string; token: string }> {
  const id = `${run}-customer-${c}`;
  return { id, token: await tokenFor({ sub: id, role: 'CUSTOMER', email: `customer-${c}@example.com` }, { expiresInSeconds: 3600 }) };
}

const codeOf = <T>(answer: GraphQLAnswer<T>) => String(answer.errors?.[0]?.extensions?.code ?? (answer.status >= 500 ? `HTTP_${answer.status}` : 'UNKNOWN'));

/** One request; a dropped connection or a non-JSON answer becomes an answer with code NETWORK. */
async function call<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V, token: string): Promise<GraphQLAnswer<T>> {
  try {
    return await gql(url, document, variables, token);
  } catch (error) {
    return { status: 0, errors: [{ message: String(error), extensions: { code: 'NETWORK' } }] };
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  const customers = options.customers ?? 8;
  const placeDeadline = options.placeDeadlineMs ?? 90_000;
  const actionDeadline = options.actionDeadlineMs ?? 120_000;
  const run = options.run ?? uniqueName('load');
  const customerTokens = await Promise.all(Array.from({ length: customers }, async (_, c) => (await customerOf(run, c)).token));
  const urls = options.graphqlUrls ?? [options.graphqlUrl];
  const restaurantTokens = new Map<string, string>();
  for (const r of new Set(BASKETS.map((b) => b.restaurantId))) {
    restaurantTokens.set(r, await tokenFor({ sub: `${run}-staff-${r}`, role: 'RESTAURANT', restaurantId: r }, { expiresInSeconds: 3600 }));
  }
  const orders: LoadOrder[] = Array.from({ length: options.orders }, (_, n) => ({
    n,
    customerId: `${run}-customer-${n % customers}`,
    graphqlUrl: urls[(n % customers) % urls.length]!,
    ...(options.plan ?? planOf)(n),
    idempotencyKey: `${run}-order-${n}`,
    placeAttempts: 0,
    failures: [],
  }));
  let acknowledged = 0;
  /** The longest any request waited for its answer: the API bounds every call it makes, so it must answer within its caps. */
  let slowestAnswerMs = 0;
  const request: typeof call = async (...args) => {
    const sent = performance.now();
    try {
      return await call(...args);
    } finally {
      slowestAnswerMs = Math.max(slowestAnswerMs, Math.round(performance.now() - sent));
    }
  };

  async function place(order: LoadOrder): Promise<void> {
    const basket = BASKETS[order.n % BASKETS.length]!;
    const input = { ...basket, items: basket.items.map((i) => ({ ...i })), deliveryAddress: `${order.n} Drill Street`, paymentToken: order.paymentToken, idempotencyKey: order.idempotencyKey };
    const token = customerTokens[order.n % customers]!;
    const deadline = performance.now() + placeDeadline;
    while (performance.now() < deadline) {
      order.placeAttempts++;
      const sent = performance.now();
      const answer = await request(order.graphqlUrl, ops.PlaceOrderDocument, { input }, token);
      const placed = answer.data?.placeOrder;
      if (placed) {
        Object.assign(order, { id: placed.id, restaurantId: placed.restaurantId, totalCents: placed.totalCents, items: placed.items.map((i) => ({ menuItemId: i.menuItemId, name: i.name, quantity: i.quantity })) });
        options.onAcknowledged?.(++acknowledged);
        return;
      }
      const code = codeOf(answer);
      order.failures.push({ code, ms: Math.round(performance.now() - sent) });
      if (code === 'BAD_USER_INPUT' || code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') throw new Error(`placeOrder ${order.n} refused: ${JSON.stringify(answer.errors)}`);
      await sleep(code === 'NETWORK' ? 500 : 250);
    }
  }

  /** Retries `step` while the answer says "not yet" (read model behind, Kafka away) until the deadline. */
  async function until<T>(order: LoadOrder, step: () => Promise<GraphQLAnswer<T>>, done: (answer: GraphQLAnswer<T>) => boolean, deadline: number): Promise<GraphQLAnswer<T> | undefined> {
    while (performance.now() < deadline) {
      const answer = await step();
      if (done(answer)) return answer;
      const code = codeOf(answer);
      if (code === 'FORBIDDEN' || code === 'UNAUTHENTICATED' || code === 'BAD_USER_INPUT') throw new Error(`order ${order.n}: ${JSON.stringify(answer.errors)}`);
      await sleep(200);
    }
    return undefined;
  }

  const statusOf = async (order: LoadOrder, token: string) => (await request(order.graphqlUrl, ops.OrderDocument, { id: order.id! }, token)).data?.order?.status;

  async function cancel(order: LoadOrder): Promise<void> {
    const token = customerTokens[order.n % customers]!;
    const deadline = performance.now() + actionDeadline;
    if (!order.cancelAtOnce) {
      const confirmed = await until(order, async () => ({ status: 200, data: { status: await statusOf(order, token) } }), (a) => (a.data as { status?: string }).status !== undefined && (a.data as { status?: string }).status !== 'PLACED', deadline);
      if (!confirmed) {
        order.actionNote = 'never left PLACED before the cancel';
        return;
      }
    }
    // The read model must know the order before it can be cancelled (NOT_FOUND until then).
    const answer = await until(
      order,
      () => request(order.graphqlUrl, ops.CancelOrderDocument, { id: order.id!, reason: 'drill' }, token),
      (a) => Boolean(a.data?.cancelOrder) || codeOf(a) === 'CONFLICT',
      deadline,
    );
    if (answer?.data) order.cancelAccepted = true;
    else if (answer) {
      // CONFLICT: the order moved on first (declined, or already cancelled by an earlier attempt whose answer was lost).
      order.cancelAccepted = (await statusOf(order, token)) === 'CANCELLED' ? true : false;
      order.actionNote = answer.errors?.[0]?.message;
    } else order.actionNote = 'cancel out of time';
  }

  async function advance(order: LoadOrder): Promise<void> {
    const token = restaurantTokens.get(order.restaurantId!)!;
    const deadline = performance.now() + actionDeadline;
    for (const status of ['PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'] as const) {
      const answer = await until(
        order,
        async (): Promise<GraphQLAnswer<unknown>> => {
          // An earlier attempt whose answer was lost may have moved it already.
          const shown = await statusOf(order, token);
          if (shown && FULFILMENT.indexOf(shown) >= FULFILMENT.indexOf(status)) return { status: 200, data: { advanceOrder: { status } } };
          return request(order.graphqlUrl, ops.AdvanceOrderDocument, { id: order.id!, status }, token);
        },
        (a) => (a.data as { advanceOrder?: { status: string } } | undefined)?.advanceOrder?.status === status,
        deadline,
      );
      if (!answer) {
        // An attempt whose answer was lost may have moved it: take what the read model shows.
        const shown = await statusOf(order, token);
        if (shown && ['PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'].includes(shown)) order.advancedTo = shown;
        order.actionNote = `advance to ${status} out of time (shows ${shown})`;
        return;
      }
      order.advancedTo = status;
    }
  }

  let next = 0;
  const follow: Promise<void>[] = [];
  const worker = async () => {
    while (next < orders.length && !options.signal?.aborted) {
      const order = orders[next++]!;
      await place(order);
      if (!order.id) continue;
      // Actions run beside the load, so a stalled pipeline does not stop the placing.
      if (order.action === 'cancel') follow.push(cancel(order));
      if (order.action === 'advance') follow.push(advance(order));
    }
  };
  await Promise.all(Array.from({ length: customers }, worker));
  await Promise.all(follow);
  return { orders, seconds: (performance.now() - started) / 1000, slowestAnswerMs };
}
