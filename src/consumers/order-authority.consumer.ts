import { ADOPTED_HISTORY, currentStatus, decideTransition, LEAVABLE_STATUSES, linkId, type AuthorityDecision, type TransitionLink } from '../domain/order-authority';
import type { OrderStatus } from '../domain/order-status';
import { stableEventId } from '../events/envelope';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { TOPICS } from '../events/topics';
import {
  orderCancelled,
  orderConfirmed,
  orderPaymentFailed,
  orderStatusChanged,
  orderTransitionDecided,
  type OrderTransitionRequested,
} from '../events/order-events';
import { settledFailed, settledOk, StaleDecisionError, type ConsumerModule, type Settled } from '../kafka/consumer-module';
import type { OutgoingEvent } from '../kafka/event-producer';
import { findByIds, insertEach } from '../mongo/bulk';
import { orderModel, type OrderDocument, type OrderModel } from '../mongo/models/order.model';
import { orderTransitionModel, type OrderTransitionDocument, type OrderTransitionModel } from '../mongo/models/order-transition.model';

/*
 * The order authority: order.transition-requested → one decision per request →
 * order.status-changed and the transition's own fact (order.confirmed, order.payment-failed,
 * order.cancelled) when accepted, and order.transition-decided for a person waiting on it.
 *
 * It is the one place an order's status is decided (docs/architecture.md, "One authority per
 * order"): requests are keyed by order id, so Kafka hands one order's requests to one instance
 * in order, and the state they are decided on is the authority's own (order_transitions), not
 * the lagging read model. Refunds follow order.cancelled, which only an accepted cancel emits.
 *
 * A round of payment outcomes costs no read and one insert: a fresh order has no links, and the
 * insert of its `<order>:PLACED` link says otherwise (then it is decided again on what is stored).
 */

type AuthorityTopic = (typeof CONSUMER_GROUP_TOPICS['order-authority'])[number];
type Links = ReadonlyMap<OrderStatus, TransitionLink>;

export interface AuthorityRound {
  /** Each order's accepted links; an order missing here has none (or, guessing, is presumed to have none). */
  readonly links: ReadonlyMap<string, Links>;
  readonly now: Date;
}

export interface AuthorityEffects {
  readonly request: OrderTransitionRequested;
  readonly decision: AuthorityDecision;
  readonly decidedAt: string;
}

interface AuthorityDeps {
  readonly transitions: OrderTransitionModel;
  readonly orders: OrderModel;
}

const linkOf = (doc: OrderTransitionDocument): TransitionLink => ({
  orderId: doc.orderId,
  from: doc.from,
  to: doc.to,
  action: doc.action,
  requestId: doc.requestId,
  requestedBy: doc.requestedBy,
  reason: doc.reason,
  at: doc.at.toISOString(),
});

const documentOf = (link: TransitionLink): OrderTransitionDocument => ({ _id: linkId(link.orderId, link.from), ...link, at: new Date(link.at) });

/**
 * Orders decided before the authority existed (or seeded straight into the read model) have a
 * status history but no links: their history becomes their links, once. Safe because every
 * status change since the authority exists had its link stored before it was announced, so a
 * read model ahead of an empty chain can only hold older history.
 */
function adoptedLinks(order: Pick<OrderDocument, '_id' | 'status' | 'statusHistory'>): TransitionLink[] {
  const steps = order.statusHistory.map((h) => ({ status: h.status, at: h.at, reason: h.reason }));
  if (steps[0]?.status !== 'PLACED') steps.unshift({ status: 'PLACED', at: steps[0]?.at ?? new Date(0), reason: null });
  const links: TransitionLink[] = [];
  for (let i = 1; i < steps.length; i += 1) {
    const from = steps[i - 1]!.status;
    const { status: to, at, reason } = steps[i]!;
    if (from === to) continue;
    const action = to === 'CONFIRMED' ? 'confirm' : to === 'PAYMENT_FAILED' ? 'fail-payment' : to === 'CANCELLED' ? 'cancel' : 'advance';
    links.push({ orderId: order._id, from, to, action, requestId: `adopted:${order._id}:${from}`, requestedBy: ADOPTED_HISTORY, reason, at: at.toISOString() });
  }
  return links;
}

async function readLinks(orderIds: readonly string[], deps: AuthorityDeps): Promise<Map<string, Links>> {
  const docs = await findByIds(deps.transitions, orderIds.flatMap((orderId) => LEAVABLE_STATUSES.map((from) => linkId(orderId, from))));
  const links = new Map<string, Map<OrderStatus, TransitionLink>>();
  for (const doc of docs.values()) {
    const ofOrder = links.get(doc.orderId) ?? new Map<OrderStatus, TransitionLink>();
    ofOrder.set(doc.from, linkOf(doc));
    links.set(doc.orderId, ofOrder);
  }
  const unknown = orderIds.filter((orderId) => !links.has(orderId));
  if (unknown.length === 0) return links;
  const older = [...(await findByIds(deps.orders, unknown, { status: 1, statusHistory: 1 })).values()].filter((order) => order.status !== 'PLACED');
  const adopted = older.flatMap(adoptedLinks);
  await insertEach(deps.transitions.collection, adopted.map(documentOf)); // a key already there was adopted by a racing read: same links
  for (const link of adopted) {
    const ofOrder = links.get(link.orderId) ?? new Map<OrderStatus, TransitionLink>();
    ofOrder.set(link.from, link);
    links.set(link.orderId, ofOrder);
  }
  return links;
}

/** Accepted links in one unordered insert; a key already taken means the order moved on: decide again. */
async function recordDecisions(effects: readonly AuthorityEffects[], deps: AuthorityDeps): Promise<Settled<AuthorityEffects>[]> {
  const results = effects.map((e) => settledOk(e) as Settled<AuthorityEffects>);
  const accepted = effects.flatMap((e, i) => (e.decision.kind === 'accept' ? [{ i, link: e.decision.link }] : []));
  const inserted = await insertEach(deps.transitions.collection, accepted.map(({ link }) => documentOf(link)));
  accepted.forEach(({ i, link }, n) => {
    if (!inserted[n]) results[i] = settledFailed(new StaleDecisionError(`order ${link.orderId} (it left ${link.from})`));
  });
  return results;
}

/** People wait on their cancel or advance (the API answers with the decision); payments do not. */
const someoneWaits = (request: OrderTransitionRequested): boolean => request.data.action === 'cancel' || request.data.action === 'advance';

function decisionEvent({ request, decision, decidedAt }: AuthorityEffects): OutgoingEvent {
  const r = request.data;
  const accepted = decision.kind !== 'reject';
  const data = {
    requestId: r.requestId,
    orderId: r.orderId,
    customerId: r.customerId,
    restaurantId: r.restaurantId,
    action: r.action,
    to: r.to,
    accepted,
    status: decision.kind === 'reject' ? decision.status : decision.link.to,
    from: decision.kind === 'reject' ? null : decision.link.from,
    problem: decision.kind === 'reject' ? decision.problem : null,
    reason: decision.kind === 'reject' ? r.reason : decision.link.reason,
    decidedAt: decision.kind === 'reject' ? decidedAt : decision.link.at,
  };
  const event = orderTransitionDecided(data, { id: stableEventId(TOPICS.orderTransitionDecided, r.requestId, String(accepted)), occurredAt: data.decidedAt });
  return { topic: TOPICS.orderTransitionDecided, key: r.orderId, event };
}

/** PURE: the facts an accepted transition announces. Ids derive from the request, so a repeat is a recognisable duplicate. */
export function acceptedTransitionEvents(request: OrderTransitionRequested, link: TransitionLink): OutgoingEvent[] {
  const r = request.data;
  const parties = { orderId: r.orderId, customerId: r.customerId, restaurantId: r.restaurantId };
  const changed = orderStatusChanged(
    { ...parties, status: link.to, previousStatus: link.from, reason: link.reason, at: link.at },
    { id: stableEventId(TOPICS.orderStatusChanged, link.requestId), occurredAt: link.at },
  );
  const events: OutgoingEvent[] = [];
  if (link.action === 'confirm' && r.confirmation) {
    const c = r.confirmation;
    events.push({ topic: TOPICS.orderConfirmed, key: r.orderId, event: orderConfirmed(c, { id: stableEventId(TOPICS.orderConfirmed, c.transactionId), occurredAt: c.confirmedAt }) });
  } else if (link.action === 'fail-payment') {
    const failed = orderPaymentFailed({ ...parties, reason: link.reason ?? 'payment declined', failedAt: link.at }, { id: stableEventId(TOPICS.orderPaymentFailed, link.requestId), occurredAt: link.at });
    events.push({ topic: TOPICS.orderPaymentFailed, key: r.orderId, event: failed });
  } else if (link.action === 'cancel') {
    const cancelled = orderCancelled(
      { ...parties, reason: link.reason, cancelledBy: link.requestedBy, cancelledAt: link.at, cancelledFrom: link.from },
      { id: stableEventId(TOPICS.orderCancelled, link.requestId), occurredAt: link.at },
    );
    events.push({ topic: TOPICS.orderCancelled, key: r.orderId, event: cancelled });
  }
  // The status change last: whoever sees it can find the fact it follows.
  events.push({ topic: TOPICS.orderStatusChanged, key: r.orderId, event: changed });
  return events;
}

export function createOrderAuthority(): ConsumerModule<AuthorityTopic, AuthorityDeps, AuthorityRound, AuthorityEffects> {
  return {
    name: 'order-authority',
    topics: CONSUMER_GROUP_TOPICS['order-authority'],
    async setup({ connection }) {
      const transitions = orderTransitionModel(connection);
      await transitions.init();
      return { transitions, orders: orderModel(connection) };
    },
    async load(messages, deps, mode) {
      // Payment outcomes come first in an order's life: guessed to find no links (the insert
      // checks). People's requests come later and rarely: always read.
      const toRead = mode === 'read' ? messages : messages.filter((m) => someoneWaits(m.event));
      const links = toRead.length === 0 ? new Map<string, Links>() : await readLinks([...new Set(toRead.map((m) => m.event.data.orderId))], deps);
      return { links, now: new Date() };
    },
    decide({ event }, { links, now }) {
      const decidedAt = now.toISOString();
      return { request: event, decision: decideTransition(event.data, links.get(event.data.orderId) ?? new Map(), decidedAt), decidedAt };
    },
    persist: recordDecisions,
    emits(effects) {
      const { request, decision } = effects;
      const events = decision.kind === 'reject' ? [] : acceptedTransitionEvents(request, decision.link);
      if (someoneWaits(request)) events.push(decisionEvent(effects));
      return events;
    },
    describe({ request, decision }) {
      const r = request.data;
      if (decision.kind === 'reject') return `refused ${r.action} → ${r.to}: ${decision.problem}`;
      const { from, to } = decision.link;
      return `${decision.kind === 'repeat' ? 'already ' : ''}${from} → ${to} (${r.action})`;
    },
  };
}

/** The order's status as the authority has it (for tests and tools). */
export async function authorityStatus(transitions: OrderTransitionModel, orderId: string): Promise<OrderStatus> {
  const docs = await findByIds(transitions, LEAVABLE_STATUSES.map((from) => linkId(orderId, from)));
  return currentStatus(new Map([...docs.values()].map((doc) => [doc.from, linkOf(doc)]))).status;
}
