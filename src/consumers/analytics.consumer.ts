import { foldAnalytics, scopesOf, toSnapshot, type AnalyticsFact, type AnalyticsSnapshot, type AnalyticsState } from '../domain/analytics';
import { analyticsUpdated } from '../events/analytics-events';
import type { EventOf } from '../events/parse-event';
import type { ConsumedEvent, ConsumerModule } from '../kafka/consumer-runner';
import {
  analyticsFactModel,
  analyticsFieldsOf,
  analyticsModel,
  analyticsStateOf,
  type AnalyticsDocument,
  type AnalyticsFactDocument,
  type AnalyticsFactModel,
  type AnalyticsModel,
} from '../mongo/models/analytics.model';
import { isDuplicateKeyError } from '../mongo/mongo-errors';
import { withRetry } from '../retry';
import { ConcurrentUpdateError } from './consumer.errors';
import { createThrottle, type Throttle } from './snapshot-throttle';

/*
 * The analytics consumer: order facts → the figures of each scope (`global` and the order's
 * restaurant) → analytics.updated, at most ~4 a second per scope.
 *
 * Counting once has two layers. The fold remembers the highest offset applied per
 * topic-partition, so a redelivered message changes nothing. A fact emitted twice (the
 * transactions consumer repeats order.confirmed after a redelivery, at a new offset) is caught
 * by the fact ledger: the first event of each fact of each order claims it, and only that
 * event is folded. Scope documents are written with optimistic concurrency (a revision), so
 * instances sharing the `global` document re-read and re-fold on conflict. No aggregation
 * pipeline is used: FerretDB v1's is unreliable.
 */

type AnalyticsTopic = 'order.placed' | 'order.confirmed' | 'order.payment-failed' | 'order.cancelled' | 'order.status-changed' | 'payment.refunded';

/** PURE: the fact an event is for analytics, or null when it does not count (only DELIVERED status changes do). */
export function factOf(event: EventOf<AnalyticsTopic>): AnalyticsFact | null {
  const { restaurantId } = event.data;
  switch (event.type) {
    case 'order.placed':
      return { kind: 'placed', restaurantId, items: event.data.items };
    case 'order.confirmed':
      return { kind: 'confirmed', restaurantId, totalCents: event.data.totalCents };
    case 'order.payment-failed':
      return { kind: 'payment-failed', restaurantId };
    case 'order.cancelled':
      return { kind: 'cancelled', restaurantId };
    case 'order.status-changed':
      return event.data.status === 'DELIVERED' ? { kind: 'delivered', restaurantId } : null;
    case 'payment.refunded':
      return { kind: 'refunded', restaurantId, amountCents: event.data.amountCents };
  }
}

export interface StoredScope {
  readonly scope: string;
  /** 0 when the scope has no document yet. */
  readonly revision: number;
  readonly state: AnalyticsState;
}

export interface AnalyticsReadState {
  /** Which event counted this fact of this order, if any did. */
  readonly counted: AnalyticsFactDocument | null;
  readonly scopes: readonly StoredScope[];
}

export type AnalyticsEffects =
  | { readonly kind: 'ignore'; readonly reason: string }
  | {
      readonly kind: 'count';
      readonly fact: AnalyticsFact['kind'];
      /** Claims the fact for this event; null when this event already holds it (a redelivery). */
      readonly factClaim: AnalyticsFactDocument | null;
      readonly writes: readonly { readonly scope: string; readonly expectedRevision: number; readonly state: AnalyticsState }[];
    };

const factKey = (fact: AnalyticsFact, orderId: string) => `${fact.kind}:${orderId}`;
const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/** PURE: fold the event into each of its scopes, unless another event of the same fact was counted. */
export function decideAnalytics(message: ConsumedEvent<AnalyticsTopic>, state: AnalyticsReadState): AnalyticsEffects {
  const { event, position } = message;
  const fact = factOf(event);
  if (!fact) return { kind: 'ignore', reason: 'not counted' };
  const { counted } = state;
  const samePosition = counted && counted.topic === position.topic && counted.partition === position.partition && counted.offset === position.offset;
  if (counted && !samePosition) return { kind: 'ignore', reason: `${fact.kind} already counted from ${counted.topic}:${counted.partition}@${counted.offset}` };
  const writes = state.scopes.flatMap((s) => {
    const next = foldAnalytics(s.state, fact, position, later(s.state.updatedAt, event.occurredAt));
    return next === s.state ? [] : [{ scope: s.scope, expectedRevision: s.revision, state: next }];
  });
  if (counted && writes.length === 0) return { kind: 'ignore', reason: 'already applied' };
  const factClaim = counted ? null : { _id: factKey(fact, event.data.orderId), ...position, eventId: event.id };
  return { kind: 'count', fact: fact.kind, factClaim, writes };
}

export interface AnalyticsOptions {
  /** Least time between two analytics.updated of one scope; the latest always goes out. @default 250 */
  readonly publishIntervalMs?: number;
}

interface AnalyticsDeps {
  readonly analytics: AnalyticsModel;
  readonly facts: AnalyticsFactModel;
  readonly snapshots: Throttle<AnalyticsSnapshot>;
}

async function persistAnalytics(effects: AnalyticsEffects, deps: AnalyticsDeps): Promise<AnalyticsEffects> {
  if (effects.kind === 'ignore') return effects;
  if (effects.factClaim) {
    try {
      await deps.facts.create(effects.factClaim);
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConcurrentUpdateError(`analytics fact ${effects.factClaim._id}`) : error;
    }
  }
  for (const { scope, expectedRevision, state } of effects.writes) {
    try {
      // Matches only the revision we read; if the scope is missing it is created, and if it
      // has moved on, the upsert's insert hits the unique _id: either way, a conflict.
      await deps.analytics.updateOne(
        { _id: scope, revision: expectedRevision },
        { $set: { ...analyticsFieldsOf(state), revision: expectedRevision + 1 } },
        { upsert: true },
      );
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConcurrentUpdateError(`analytics of ${scope}`) : error;
    }
    deps.snapshots.offer(scope, toSnapshot(state));
  }
  return effects;
}

export function createAnalyticsConsumer(
  options: AnalyticsOptions = {},
): ConsumerModule<AnalyticsTopic, AnalyticsDeps, AnalyticsReadState, AnalyticsEffects> {
  return {
    name: 'analytics',
    topics: ['order.placed', 'order.confirmed', 'order.payment-failed', 'order.cancelled', 'order.status-changed', 'payment.refunded'],
    async setup({ connection, producer, log }) {
      const [analytics, facts] = [analyticsModel(connection), analyticsFactModel(connection)];
      await Promise.all([analytics.init(), facts.init()]);
      const publish = (scope: string, snapshot: AnalyticsSnapshot) => {
        const event = analyticsUpdated({ ...snapshot, topItems: [...snapshot.topItems], byRestaurant: [...snapshot.byRestaurant] });
        return withRetry(() => producer.publish([{ topic: 'analytics.updated', key: scope, event }]), { retries: 3 }).catch(
          (error: unknown) => log.warn({ err: error, scope }, 'analytics.updated not published; the next update carries the figures'),
        );
      };
      return { analytics, facts, snapshots: createThrottle(options.publishIntervalMs ?? 250, publish) };
    },
    async load(message, deps) {
      const fact = factOf(message.event);
      if (!fact) return { counted: null, scopes: [] };
      const scopes = scopesOf(fact);
      const [counted, docs] = await Promise.all([
        deps.facts.findById(factKey(fact, message.event.data.orderId)).lean<AnalyticsFactDocument>(),
        deps.analytics.find({ _id: { $in: scopes } }).lean<AnalyticsDocument[]>(),
      ]);
      return {
        counted,
        scopes: scopes.map((scope) => {
          const doc = docs.find((d) => d._id === scope) ?? null;
          return { scope, revision: doc?.revision ?? 0, state: analyticsStateOf(scope, doc) };
        }),
      };
    },
    decide: decideAnalytics,
    persist: persistAnalytics,
    emits: () => [], // analytics.updated goes out through the throttle, after the write
    describe: (effects) =>
      effects.kind === 'ignore' ? `ignored: ${effects.reason}` : `counted ${effects.fact} in ${effects.writes.map((w) => w.scope).join(', ')}`,
    async teardown(deps) {
      await deps.snapshots.flush();
    },
  };
}
