/**
 * Drill 7: a cancel racing an advance (finding 2), many times, on two API instances. Each of
 * 40 orders is charged and CONFIRMED; then its customer's cancelOrder goes to one API instance
 * and its restaurant's advanceOrder(PREPARING) to the other at the same moment. The order
 * authority decides both, one order at a time: exactly one mutation is accepted and the other
 * answered CONFLICT naming the transition that won. Refunds follow only accepted cancels; the
 * winners of an advance are delivered; the shared audit passes.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import * as ops from '../generated/graphql';
import { gql, tokenFor, type GraphQLAnswer } from '../support/api-harness';
import { auditAndReport, drillWorld } from './support/drill';
import { runLoad, type LoadOrder } from './support/load';

const DRILL = 'cancel-race';
const ORDERS = 40;
const { world } = drillWorld(DRILL, { options: () => ({ instances: { api: 2 } }) });

type Answer = { accepted: true; status: string } | { accepted: false; code: string; message: string };

const codeOf = (a: GraphQLAnswer<unknown>) => String(a.errors?.[0]?.extensions?.code ?? (a.status === 0 ? 'NETWORK' : `HTTP_${a.status}`));

/**
 * Sends one mutation, again with the same request while the answer is "not known" (UNAVAILABLE
 * after ORDER_DECISION_TIMEOUT_MS, a dropped connection), as the README tells a client to.
 */
async function decided<T>(send: () => Promise<GraphQLAnswer<T>>, statusOf: (data: T) => string | undefined): Promise<Answer & { attempts: number }> {
  const deadline = performance.now() + 60_000;
  for (let attempts = 1; ; attempts++) {
    const answer = await send().catch((error: unknown): GraphQLAnswer<T> => ({ status: 0, errors: [{ message: String(error), extensions: { code: 'NETWORK' } }] }));
    const status = answer.data ? statusOf(answer.data) : undefined;
    if (status) return { accepted: true, status, attempts };
    const code = codeOf(answer);
    if ((code !== 'UNAVAILABLE' && code !== 'NETWORK') || performance.now() > deadline) return { accepted: false, code, message: answer.errors?.[0]?.message ?? '', attempts };
    await sleep(250);
  }
}

describe('drill 7: cancel racing advance, on two API instances', () => {
  it('accepts exactly one of the two for every order, refunds only accepted cancels; the audit passes', async () => {
    const w = world();
    const apis = w.processes.get('api')!.map((p) => `${p.apiBase!}/graphql`);
    if (apis.length !== 2) throw new Error(`expected two API instances, found ${apis.length}`);

    // Every order charged with a card that captures, no action of the load's own.
    const load = await runLoad({ graphqlUrl: apis[0]!, orders: ORDERS, customers: 4, plan: () => ({ paymentToken: 'tok_visa', action: 'none', cancelAtOnce: false }) });
    const placed = load.orders.filter((o): o is LoadOrder & { id: string } => o.id !== undefined);
    const customerToken = new Map(await Promise.all(placed.map(async (o) => [o.id, await tokenFor({ sub: o.customerId, role: 'CUSTOMER', email: `${o.customerId}@example.com` }, { expiresInSeconds: 3600 })] as const)));
    const staffToken = new Map<string, string>();
    for (const r of new Set(placed.map((o) => o.restaurantId!))) staffToken.set(r, await tokenFor({ sub: `drill-staff-${r}`, role: 'RESTAURANT', restaurantId: r }, { expiresInSeconds: 3600 }));

    // Both sides must see CONFIRMED before the race, or the early refusal on the read model decides it.
    const confirmedBy = performance.now() + 120_000;
    for (const o of placed) {
      for (const api of apis) {
        while ((await gql(api, ops.OrderDocument, { id: o.id }, customerToken.get(o.id)!).catch(() => undefined))?.data?.order?.status !== 'CONFIRMED') {
          if (performance.now() > confirmedBy) throw new Error(`order ${o.id} was not CONFIRMED on ${api} within 120 s`);
          await sleep(200);
        }
      }
    }

    const races = await Promise.all(
      placed.map(async (o, i) => {
        const [cancelApi, advanceApi] = i % 2 === 0 ? [apis[0]!, apis[1]!] : [apis[1]!, apis[0]!];
        const [cancel, advance] = await Promise.all([
          decided(() => gql(cancelApi, ops.CancelOrderDocument, { id: o.id, reason: 'drill 7 race' }, customerToken.get(o.id)!), (d) => d.cancelOrder?.status),
          decided(() => gql(advanceApi, ops.AdvanceOrderDocument, { id: o.id, status: 'PREPARING' }, staffToken.get(o.restaurantId!)!), (d) => d.advanceOrder?.status),
        ]);
        return { order: o, cancel, advance };
      }),
    );

    const problems: string[] = [];
    for (const { order, cancel, advance } of races) {
      if (cancel.accepted === advance.accepted) {
        problems.push(`order ${order.id}: cancel ${JSON.stringify(cancel)}, advance ${JSON.stringify(advance)}: not exactly one accepted`);
        continue;
      }
      const loser = cancel.accepted ? advance : cancel;
      if (loser.accepted) continue; // unreachable; narrows the type
      const winner = cancel.accepted ? 'CANCELLED' : 'PREPARING';
      if (loser.code !== 'CONFLICT') problems.push(`order ${order.id}: the losing ${cancel.accepted ? 'advance' : 'cancel'} answered ${loser.code}, not CONFLICT`);
      else if (!loser.message.includes(winner)) problems.push(`order ${order.id}: the CONFLICT does not name the winner ${winner}: ${loser.message}`);
      if (cancel.accepted && cancel.status !== 'CANCELLED') problems.push(`order ${order.id}: the accepted cancel answered ${cancel.status}`);
      if (advance.accepted && advance.status !== 'PREPARING') problems.push(`order ${order.id}: the accepted advance answered ${advance.status}`);
      order.cancelAccepted = cancel.accepted;
      if (advance.accepted) order.advancedTo = 'PREPARING';
    }

    // The winners of an advance are delivered (a final state for the audit), on either instance.
    await Promise.all(
      races
        .filter((r) => r.advance.accepted)
        .map(async ({ order }, i) => {
          for (const status of ['OUT_FOR_DELIVERY', 'DELIVERED'] as const) {
            const answer = await decided(() => gql(apis[i % 2]!, ops.AdvanceOrderDocument, { id: order.id!, status }, staffToken.get(order.restaurantId!)!), (d) => d.advanceOrder?.status);
            if (!answer.accepted) {
              problems.push(`order ${order.id}: advance to ${status} after winning the race answered ${answer.code}: ${answer.message}`);
              return;
            }
            order.advancedTo = status;
          }
        }),
    );

    const cancelsWon = races.filter((r) => r.cancel.accepted).length;
    const retried = races.reduce((n, r) => n + r.cancel.attempts - 1 + r.advance.attempts - 1, 0);
    await auditAndReport(w, load, {
      problems,
      figures: { races: races.length, cancelsWon, advancesWon: races.length - cancelsWon, bothOrNeither: races.filter((r) => r.cancel.accepted === r.advance.accepted).length, unavailableRetries: retried },
    });
    // The race must be a race: both sides winning some orders shows the two were in flight together.
    expect({ cancelsWon: cancelsWon > 0, advancesWon: races.length - cancelsWon > 0 }).toEqual({ cancelsWon: true, advancesWon: true });
  });
});
