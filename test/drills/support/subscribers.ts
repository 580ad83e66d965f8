/**
 * Apps listening while the load runs: for every customer of the load, on every API instance,
 * one graphql-ws socket (the customer's own token) subscribed to `orderConfirmed` and to
 * `orderStatusChanged` without an order id (every change of its orders from then on). They
 * are live before the first order (each API's `graphql_subscriptions_active` counts them), so
 * each must receive every event of its customer's orders that Kafka holds: the audit compares
 * what each socket got with order.confirmed and order.status-changed read back from the
 * cluster (no event missing, none that Kafka lacks). Repeats are counted, not refused: a
 * consumer killed after producing and before committing produces its events again (at least
 * once), and the API passes each copy on; the figures set the repeats delivered beside the
 * copies Kafka holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'graphql-ws';
import type { Kafka } from 'kafkajs';
import { physicalTopic, TOPICS } from '../../../src/events/topics';
import * as ops from '../../generated/graphql';
import { subscribe, wsClient, type SubscriptionProbe } from '../../support/api-harness';
import { readTopics } from './audit';
import { customerOf } from './load';
import type { DrillWorld } from './world';

interface Listener {
  readonly customerId: string;
  /** The API instance's label (api, api-2) and base URL. */
  readonly api: string;
  readonly client: Client;
  readonly confirmed: SubscriptionProbe<ops.OrderConfirmedSubscription>;
  readonly changed: SubscriptionProbe<ops.OrderStatusChangedSubscription>;
}

export interface Subscribers {
  /** Compares what every socket received with the events on Kafka; call once the audit has settled. */
  check(kafka: Kafka, world: DrillWorld): Promise<{ problems: string[]; figures: Record<string, unknown> }>;
  close(): void;
}

/** `graphql_subscriptions_active` of one API instance, from its /metrics. */
async function activeSubscriptions(apiBase: string): Promise<number> {
  const text = await (await fetch(`${apiBase}/metrics`)).text();
  return Number(/^graphql_subscriptions_active (\d+)/m.exec(text)?.[1] ?? 0);
}

/**
 * Subscribes every customer `0 … customers - 1` of load run `run` on every API instance of the
 * world, and resolves once every instance counts its subscriptions as running.
 */
export async function subscribeEveryCustomer(world: DrillWorld, run: string, customers: number): Promise<Subscribers> {
  const apis = (world.processes.get('api') ?? []).map((p, i) => ({ label: i === 0 ? 'api' : `api-${i + 1}`, base: p.apiBase! }));
  const listeners: Listener[] = [];
  for (let c = 0; c < customers; c++) {
    const { id, token } = await customerOf(run, c);
    for (const api of apis) {
      const client = wsClient(`${api.base.replace(/^http/, 'ws')}/graphql`, token);
      listeners.push({
        customerId: id,
        api: api.label,
        client,
        confirmed: subscribe(client, ops.OrderConfirmedDocument, {}),
        changed: subscribe(client, ops.OrderStatusChangedDocument, { orderId: null }),
      });
    }
  }
  // Live once each API has started both streams of each of its sockets (graphql-ws
  // acknowledges a subscribe with nothing, so the server's own gauge tells).
  const deadline = Date.now() + 60_000;
  for (const api of apis) {
    const expected = 2 * customers;
    while ((await activeSubscriptions(api.base).catch(() => 0)) < expected) {
      const ended = listeners.filter((l) => l.confirmed.errors.length + l.changed.errors.length > 0);
      if (ended.length > 0) throw new Error(`subscriptions ended while starting: ${JSON.stringify(ended.map((l) => [...l.confirmed.errors, ...l.changed.errors]))}`);
      if (Date.now() > deadline) throw new Error(`${api.label} counts ${await activeSubscriptions(api.base)} running subscriptions, not ${expected}`);
      await sleep(200);
    }
  }

  return {
    async check(kafka, w) {
      const problems: string[] = [];
      const [confirmedOnKafka, changedOnKafka] = await Promise.all(
        [TOPICS.orderConfirmed, TOPICS.orderStatusChanged].map((t) => readTopics(kafka, [physicalTopic(w.config, t)])),
      );
      const dataOf = (m: { value: Buffer | null }) => (JSON.parse(m.value!.toString()) as { data: { orderId: string; customerId: string; status?: string } }).data;
      // Per customer: each event (order, or order and status) and how many copies Kafka holds.
      const copies = (events: { customerId: string; key: string }[]) => {
        const byCustomer = new Map<string, Map<string, number>>();
        for (const e of events) {
          const mine = byCustomer.get(e.customerId) ?? new Map<string, number>();
          byCustomer.set(e.customerId, mine.set(e.key, (mine.get(e.key) ?? 0) + 1));
        }
        return byCustomer;
      };
      const expectedConfirmed = copies(confirmedOnKafka!.map(dataOf).map((d) => ({ customerId: d.customerId, key: d.orderId })));
      const expectedChanges = copies(changedOnKafka!.map(dataOf).map((d) => ({ customerId: d.customerId, key: `${d.orderId} ${d.status}` })));

      let delivered = 0;
      let missing = 0;
      let repeated = 0;
      let copiesOnKafka = 0;
      const perApi: Record<string, number> = {};
      for (const l of listeners) {
        const gotConfirmed = l.confirmed.results.map((r) => r.data?.orderConfirmed?.orderId ?? `error ${JSON.stringify(r.errors)}`);
        const gotChanges = l.changed.results.map((r) => (r.data?.orderStatusChanged ? `${r.data.orderStatusChanged.orderId} ${r.data.orderStatusChanged.status}` : `error ${JSON.stringify(r.errors)}`));
        delivered += gotConfirmed.length + gotChanges.length;
        perApi[l.api] = (perApi[l.api] ?? 0) + gotConfirmed.length + gotChanges.length;
        for (const [what, got, expected] of [
          ['orderConfirmed', gotConfirmed, expectedConfirmed.get(l.customerId) ?? new Map<string, number>()],
          ['orderStatusChanged', gotChanges, expectedChanges.get(l.customerId) ?? new Map<string, number>()],
        ] as const) {
          const seen = new Set(got);
          repeated += got.length - seen.size;
          copiesOnKafka += [...expected.values()].reduce((s, n) => s + n - 1, 0);
          const lacking = [...expected.keys()].filter((e) => !seen.has(e));
          const extra = [...seen].filter((e) => !expected.has(e));
          missing += lacking.length;
          if (lacking.length > 0) problems.push(`${l.customerId} on ${l.api} missed ${lacking.length} of ${expected.size} ${what} event(s), e.g. ${lacking.slice(0, 3).join(', ')}`);
          if (extra.length > 0) problems.push(`${l.customerId} on ${l.api} got ${extra.length} ${what} event(s) Kafka does not hold for it, e.g. ${extra.slice(0, 3).join(', ')}`);
        }
        const ended = [...l.confirmed.errors, ...l.changed.errors];
        if (ended.length > 0) problems.push(`${l.customerId} on ${l.api}: a subscription ended: ${JSON.stringify(ended).slice(0, 300)}`);
      }
      const expectedPerSocket = [...expectedConfirmed.values(), ...expectedChanges.values()].reduce((s, e) => s + e.size, 0);
      const customersListening = new Set(listeners.map((l) => l.customerId)).size;
      return {
        problems,
        figures: {
          subscriberSockets: listeners.length,
          /** Distinct events of the listening customers' orders on Kafka, times the API instances. */
          subscriptionEventsExpected: expectedPerSocket * apis.length,
          subscriptionEventsDelivered: delivered,
          subscriptionEventsDeliveredPerApi: perApi,
          subscriptionEventsMissing: missing,
          /** Copies delivered beyond the first, and the copies beyond the first that Kafka holds, summed over the sockets. */
          subscriptionEventsRepeated: repeated,
          subscriptionEventCopiesOnKafka: copiesOnKafka,
          customersListening,
        },
      };
    },
    close() {
      for (const l of listeners) {
        l.confirmed.close();
        l.changed.close();
        void l.client.dispose();
      }
    },
  };
}
