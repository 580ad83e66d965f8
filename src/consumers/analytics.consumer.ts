import { ROOT_CONTEXT, type SpanContext } from '@opentelemetry/api';
import { emptyAnalytics, foldAnalytics, scopesOf, toSnapshot, type AnalyticsFact, type AnalyticsSnapshot, type AnalyticsState, type EventPosition } from '../domain/analytics';
import { analyticsUpdated } from '../events/analytics-events';
import type { EventOf } from '../events/parse-event';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { TOPICS } from '../events/topics';
import { settledFailed, settledOk, StaleDecisionError, type ConsumedEvent, type ConsumerModule, type Settled } from '../kafka/consumer-module';
import { findByIds, insertEach } from '../mongo/bulk';
import {
  analyticsFactModel,
  analyticsFieldsOf,
  analyticsModel,
  analyticsStateOf,
  type AnalyticsFactDocument,
  type AnalyticsFactModel,
  type AnalyticsModel,
} from '../mongo/models/analytics.model';
import { isDuplicateKeyError } from '../mongo/mongo-errors';
import { collectionOf, liveGeneration } from '../mongo/read-models';
import { withRetry } from '../retry';
import { MAX_TRACE_LINKS } from '../tracing/kafka-headers';

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
 * pipeline is used: FerretDB v1's is unreliable. A round folds all its facts and writes each
 * scope it touched once.
 */

type AnalyticsTopic = (typeof CONSUMER_GROUP_TOPICS.analytics)[number];

/** PURE: the fact an event is for analytics, or null when it does not count (only DELIVERED status changes do; no refund of an order never confirmed). */
export function factOf(event: EventOf<AnalyticsTopic>): AnalyticsFact | null {
  const { restaurantId } = event.data;
  switch (event.type) {
    case TOPICS.orderPlaced:
      return { kind: 'placed', restaurantId, items: event.data.items };
    case TOPICS.orderConfirmed:
      return { kind: 'confirmed', restaurantId, totalCents: event.data.totalCents };
    case TOPICS.orderPaymentFailed:
      return { kind: 'payment-failed', restaurantId };
    case TOPICS.orderCancelled:
      return { kind: 'cancelled', restaurantId };
    case TOPICS.orderStatusChanged:
      return event.data.status === 'DELIVERED' ? { kind: 'delivered', restaurantId } : null;
    case TOPICS.paymentRefunded:
      // A capture given back before the order was ever confirmed was never counted as revenue.
      return event.data.orderWasConfirmed === false ? null : { kind: 'refunded', restaurantId, amountCents: event.data.amountCents };
  }
}

export interface StoredScope {
  readonly scope: string;
  /** 0 when the scope has no document yet. */
  readonly revision: number;
  readonly state: AnalyticsState;
}

/** What a round of analytics reads: the facts already counted and the figures of every scope it touches. */
export interface AnalyticsRound {
  /** Which event counted each fact of each order, for the facts this round carries. */
  readonly counted: ReadonlyMap<string, AnalyticsFactDocument>;
  readonly scopes: ReadonlyMap<string, StoredScope>;
}

export type AnalyticsEffects =
  | { readonly kind: 'ignore'; readonly reason: string }
  | {
      readonly kind: 'count';
      readonly fact: AnalyticsFact;
      /** Claims the fact for this event; null when this event already holds it (a redelivery). */
      readonly factClaim: AnalyticsFactDocument | null;
      readonly position: EventPosition;
      readonly occurredAt: string;
      /** The scopes it is folded into, as read at the start of the round. */
      readonly scopes: readonly StoredScope[];
      /** The span handling the event (tracing on): the snapshots it goes into link to it. */
      readonly trace?: SpanContext;
    };

const factKey = (fact: AnalyticsFact, orderId: string) => `${fact.kind}:${orderId}`;
const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/** PURE: count the event's fact, unless another event of the same fact was counted. */
export function decideAnalytics(message: ConsumedEvent<AnalyticsTopic>, round: AnalyticsRound): AnalyticsEffects {
  const { event, position } = message;
  const fact = factOf(event);
  if (!fact) return { kind: 'ignore', reason: 'not counted' };
  const counted = round.counted.get(factKey(fact, event.data.orderId)) ?? null;
  const samePosition = counted && counted.topic === position.topic && counted.partition === position.partition && counted.offset === position.offset;
  if (counted && !samePosition) return { kind: 'ignore', reason: `${fact.kind} already counted from ${counted.topic}:${counted.partition}@${counted.offset}` };
  const scopes = scopesOf(fact).map((scope) => round.scopes.get(scope) ?? { scope, revision: 0, state: emptyAnalytics(scope) });
  const factClaim = counted ? null : { _id: factKey(fact, event.data.orderId), ...position, eventId: event.id };
  return { kind: 'count', fact, factClaim, position, occurredAt: event.occurredAt, scopes, trace: message.trace };
}

export interface ScopeWrite {
  readonly scope: string;
  readonly expectedRevision: number;
  readonly state: AnalyticsState;
}

/**
 * PURE: folds a round's counted facts, in order, into the figures of their scopes. One write
 * per scope that changed, conditional on the revision read; a fact already folded at its
 * position (a redelivery whose claim was written but not every scope) changes nothing.
 */
export function foldRound(counts: readonly Extract<AnalyticsEffects, { kind: 'count' }>[]): ScopeWrite[] {
  const folded = new Map<string, { read: StoredScope; state: AnalyticsState }>();
  for (const count of counts) {
    for (const read of count.scopes) {
      const current = folded.get(read.scope) ?? { read, state: read.state };
      const state = foldAnalytics(current.state, count.fact, count.position, later(current.state.updatedAt, count.occurredAt));
      folded.set(read.scope, { read: current.read, state });
    }
  }
  return [...folded.values()].filter((f) => f.state !== f.read.state).map((f) => ({ scope: f.read.scope, expectedRevision: f.read.revision, state: f.state }));
}

export interface AnalyticsOptions {
  /** Least time between two analytics.updated of one scope; the latest always goes out. @default 250 */
  readonly publishIntervalMs?: number;
  /**
   * The generation of the read model to write (src/mongo/read-models.ts): a replay names its
   * new one. @default the live generation, read from the pointer at setup
   */
  readonly generation?: string | null;
  /**
   * Whether snapshots go out on analytics.updated. A replay says false: apps must not see the
   * figures of a model being rebuilt. @default true
   */
  readonly publishSnapshots?: boolean;
}

interface AnalyticsDeps {
  readonly analytics: AnalyticsModel;
  readonly facts: AnalyticsFactModel;
  readonly snapshots: Throttle<AnalyticsSnapshot>;
  /** The figures of each scope as this instance last read or wrote them; a write that finds them stale drops them. */
  readonly known: Map<string, StoredScope>;
  /**
   * Tracing on: per scope, the spans of the events folded since its last snapshot went out
   * (the latest MAX_TRACE_LINKS). A snapshot aggregates many orders' events, so it links to
   * them rather than continuing any one order's trace.
   */
  readonly links: Map<string, SpanContext[]>;
}

/** Remembers the spans of the round's events folded into `scope`, for its next snapshot's links. */
function rememberLinks(links: Map<string, SpanContext[]>, scope: string, counts: readonly { e: Extract<AnalyticsEffects, { kind: 'count' }> }[]): void {
  if (counts[0]?.e.trace === undefined) return; // tracing off
  const list = links.get(scope) ?? [];
  for (const { e } of counts) if (e.trace && e.scopes.some((s) => s.scope === scope)) list.push(e.trace);
  links.set(scope, list.length > MAX_TRACE_LINKS ? list.slice(-MAX_TRACE_LINKS) : list);
}

/**
 * Persists a round: the fact claims in one unordered insert (a taken one means another event
 * counted that fact first: decided again, it is ignored), then each changed scope once,
 * conditional on its revision (a scope that moved on fails the round's facts in it, which are
 * decided and folded again on the fresh figures).
 */
async function persistAnalytics(effects: readonly AnalyticsEffects[], deps: AnalyticsDeps): Promise<Settled<AnalyticsEffects>[]> {
  const results = effects.map((e) => settledOk(e));
  const claims = effects.flatMap((e, i) => (e.kind === 'count' && e.factClaim ? [{ i, claim: e.factClaim }] : []));
  const inserted = await insertEach(deps.facts.collection, claims.map((c) => c.claim));
  claims.forEach(({ i, claim }, n) => {
    if (!inserted[n]) results[i] = settledFailed(new StaleDecisionError(`analytics fact ${claim._id}`));
  });
  // A fact decided again is folded after this round's later facts, whose offsets would then
  // mark it applied and drop it (a run that claimed facts and died before writing the figures
  // is redelivered exactly so). So the facts after a lost claim wait and are decided again
  // with it, in order; their claims, already ours at their positions, still count them.
  const lost = claims.find((_, n) => !inserted[n]);
  effects.forEach((e, i) => {
    if (lost && i > lost.i && e.kind === 'count' && results[i]!.ok) results[i] = settledFailed(new StaleDecisionError(`analytics fact after ${lost.claim._id}`));
  });
  // Folded facts whose claim is ours, once their figures are written (below): only those count.
  const counts = effects.flatMap((e, i) => (e.kind === 'count' && results[i]!.ok ? [{ i, e }] : []));
  const writes = foldRound(counts.map((c) => c.e));
  await Promise.all(
    writes.map(async ({ scope, expectedRevision, state }) => {
      try {
        // Matches only the revision read; if the scope is missing it is created, and if it has
        // moved on, the upsert's insert hits the unique _id: either way, a conflict.
        const result = await deps.analytics.updateOne(
          { _id: scope, revision: expectedRevision },
          { $set: { ...analyticsFieldsOf(state), revision: expectedRevision + 1 } },
          { upsert: true },
        );
        if (result.matchedCount + result.upsertedCount === 0) throw new StaleDecisionError(`analytics of ${scope}`);
        deps.known.set(scope, { scope, revision: expectedRevision + 1, state });
        rememberLinks(deps.links, scope, counts);
        deps.snapshots.offer(scope, toSnapshot(state));
      } catch (error) {
        deps.known.delete(scope);
        const failure = isDuplicateKeyError(error) ? new StaleDecisionError(`analytics of ${scope}`) : error;
        for (const { i, e } of counts) if (e.scopes.some((s) => s.scope === scope)) results[i] = settledFailed(failure);
      }
    }),
  );
  return results;
}

export function createAnalyticsConsumer(options: AnalyticsOptions = {}): ConsumerModule<AnalyticsTopic, AnalyticsDeps, AnalyticsRound, AnalyticsEffects> {
  return {
    name: 'analytics',
    topics: CONSUMER_GROUP_TOPICS.analytics,
    // Every round writes the global scope: one round at a time, so this instance never races itself.
    partitionsConcurrently: 1,
    async setup({ connection, producer, log }) {
      const generation = options.generation !== undefined ? options.generation : await liveGeneration(connection, 'analytics');
      const analytics = analyticsModel(connection, collectionOf('analytics', generation));
      const facts = analyticsFactModel(connection, collectionOf('analytics_facts', generation));
      log.info({ collections: [analytics.collection.collectionName, facts.collection.collectionName] }, 'counting analytics');
      await Promise.all([analytics.init(), facts.init()]);
      const links = new Map<string, SpanContext[]>();
      const publish = async (scope: string, snapshot: AnalyticsSnapshot) => {
        const folded = links.get(scope);
        links.delete(scope);
        if (options.publishSnapshots === false) return;
        const event = analyticsUpdated({ ...snapshot, topItems: [...snapshot.topItems], byRestaurant: [...snapshot.byRestaurant] });
        // A trace of its own, linked to the events it counts: no one order is its parent.
        const traced = folded ? { traceParent: ROOT_CONTEXT, traceLinks: folded } : {};
        return withRetry(() => producer.publish([{ topic: TOPICS.analyticsUpdated, key: scope, event, ...traced }]), { retries: 3 }).catch(
          (error: unknown) => log.warn({ err: error, scope }, 'analytics.updated not published; the next update carries the figures'),
        );
      };
      return { analytics, facts, snapshots: createThrottle(options.publishIntervalMs ?? 250, publish), known: new Map(), links };
    },
    async load(messages, deps, mode) {
      const facts = messages.flatMap((m) => {
        const fact = factOf(m.event);
        return fact ? [{ fact, orderId: m.event.data.orderId }] : [];
      });
      if (facts.length === 0) return { counted: new Map(), scopes: new Map() };
      const scopeNames = [...new Set(facts.flatMap(({ fact }) => scopesOf(fact)))];
      // Guessing: no fact counted yet (the claims' insert tells otherwise), the scopes as this
      // instance last wrote them (the revision check tells otherwise).
      const guessing = mode === 'guess';
      const unknownScopes = guessing ? scopeNames.filter((scope) => !deps.known.has(scope)) : scopeNames;
      const [counted, docs] = await Promise.all([
        guessing ? new Map<string, AnalyticsFactDocument>() : findByIds(deps.facts, facts.map(({ fact, orderId }) => factKey(fact, orderId))),
        findByIds(deps.analytics, unknownScopes),
      ]);
      for (const scope of unknownScopes) {
        const doc = docs.get(scope) ?? null;
        deps.known.set(scope, { scope, revision: doc?.revision ?? 0, state: analyticsStateOf(scope, doc) });
      }
      return { counted, scopes: new Map(scopeNames.map((scope) => [scope, deps.known.get(scope)!])) };
    },
    decide: decideAnalytics,
    persist: persistAnalytics,
    emits: () => [], // analytics.updated goes out through the throttle, after the write
    describe: (effects) => (effects.kind === 'ignore' ? `ignored: ${effects.reason}` : `counted ${effects.fact.kind}`),
    async teardown(deps) {
      await deps.snapshots.flush();
    },
  };
}
