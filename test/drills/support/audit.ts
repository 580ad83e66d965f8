/**
 * The one audit every drill ends with, against what the system stored and sent:
 * - every acknowledged order reaches, within a deadline, the final state its answers promised
 *   in the read model (DELIVERED when advanced, CANCELLED when the cancel was accepted,
 *   PAYMENT_FAILED when declined, CONFIRMED otherwise); orders placed but never acknowledged
 *   (an answer lost) are final too;
 * - the gateway ledger holds exactly one capture per charged order and a refund only for a
 *   cancelled order that was captured (and one for each such order);
 * - the SMTP server received exactly one confirmation email per order confirmed on Kafka; an
 *   order is confirmed on Kafka only when captured, and a capture is confirmed unless a cancel
 *   won at the order authority first (the order is then CANCELLED and refunded);
 * - analytics equal a recount from the orders (test/support/expected-analytics.ts);
 * - every consumer group of the application has committed everything on its topics, and every
 *   message in a dead-letter or parking topic carries its reason.
 * It returns the problems found (empty when the audit passes) and the figures; report() prints
 * them and writes .local/drills/<drill>.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol, type Kafka, type KafkaMessage } from 'kafkajs';
import mongoose from 'mongoose';
import { logicalTopic, physicalGroupId, physicalTopic, TOPICS } from '../../../src/events/topics';
import { createKafka } from '../../../src/kafka/client';
import { createLogger } from '../../../src/logger';
import { CONFIRMATION_CLAIM_LEASE_MS } from '../../../src/consumers/confirmations.consumer';
import { notificationId, notificationModel, type NotificationModel } from '../../../src/mongo/models/notification.model';
import { orderModel } from '../../../src/mongo/models/order.model';
import { gatewayLedgerModel, type GatewayLedgerEntry } from '../../../src/payments/gateway-ledger.model';
import * as ops from '../../generated/graphql';
import { gql, tokenFor } from '../../support/api-harness';
import { expectedFigures, type TrackedOrder } from '../../support/expected-analytics';
import type { LoadOrder, LoadResult } from './load';
import { consumerNames, DRILLS_DIR, type DrillWorld } from './world';

const log = createLogger('drill-audit', { level: 'silent' });

export interface DeadLetter {
  readonly topic: string;
  readonly reason: string | undefined;
  readonly headers: Record<string, string>;
  readonly value: Buffer | null;
}

export interface AuditResult {
  readonly problems: string[];
  readonly figures: Record<string, unknown>;
  readonly deadLetters: DeadLetter[];
  /** performance.now() when the orders were final and every group had committed all (an upper bound: checked once a second from the audit's start). */
  readonly settledAt: number;
}

export interface AuditOptions {
  /** How long orders, groups, emails and analytics may take to settle. @default 180 s */
  readonly settleMs?: number;
  /** Dead letters the drill put there on purpose (drill 8); any other is a problem. */
  readonly expectedDeadLetter?: (letter: DeadLetter) => boolean;
}

const FINAL = new Set(['CONFIRMED', 'DELIVERED', 'PAYMENT_FAILED', 'CANCELLED']);

/**
 * The one duplicate email the design accepts (confirmations.consumer.ts): a confirmations
 * instance SIGKILLed with the email's data sent and its notification not yet stored, so the
 * claim was taken over after its lease and the email sent again. SMTP offers no way to ask the
 * server whether it took a message (RFC 1047: the server may even accept it after the client
 * is gone), so the alternative would be a lost confirmation. It is that case only when there
 * are exactly two copies (one Message-ID), the stored notification says its claim was taken
 * over (attempts ≥ 2), the first copy was accepted around a SIGKILL of a confirmations
 * instance (within the claim's lease before it, or moments after it), and the second after it.
 * The drills run the confirmations consumer with its default lease.
 */
async function repeatedByDesign(world: DrillWorld, orderId: string, copies: number, notifications: NotificationModel): Promise<boolean> {
  if (copies !== 2) return false;
  const [first, second] = world.mailbox.confirmationsOf(orderId).map((mail) => world.mailbox.acceptedAt(mail) ?? Number.NaN);
  const notification = await notifications.findById(notificationId(orderId, 'email')).lean();
  const SERVER_LAG_MS = 5_000;
  const aroundKill = world.kills.some((k) => k.name === 'confirmations' && k.signal === 'SIGKILL' && first! > k.at - CONFIRMATION_CLAIM_LEASE_MS && first! < k.at + SERVER_LAG_MS && second! > k.at);
  return aroundKill && (notification?.attempts ?? 0) >= 2;
}

/** What the answers promised for an acknowledged order. */
export function promisedStatus(order: LoadOrder): string {
  if (order.cancelAccepted) return 'CANCELLED';
  if (order.advancedTo) return order.advancedTo;
  return order.paymentToken === 'tok_declined' ? 'PAYMENT_FAILED' : 'CONFIRMED';
}

/** Every message of the given physical topics, read from the beginning by a throwaway group. */
export async function readTopics(kafka: Kafka, topics: readonly string[]): Promise<(KafkaMessage & { topic: string })[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > 0) ends.set(`${topic}/${p.partition}`, Number(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const messages: (KafkaMessage & { topic: string })[] = [];
  if (ends.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: `drill-read-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 });
  const seen = new Map<string, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set([...ends.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))))], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        messages.push({ ...message, topic });
        seen.set(`${topic}/${partition}`, Number(message.offset) + 1);
      },
    });
    const deadline = Date.now() + 60_000;
    while ([...ends].some(([k, high]) => (seen.get(k) ?? 0) < high)) {
      if (Date.now() > deadline) throw new Error(`reading ${topics.join(', ')} did not reach the end in 60 s`);
      await sleep(100);
    }
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** The physical topics assigned to each application consumer group's members now. */
export async function groupTopics(kafka: Kafka, world: DrillWorld): Promise<Map<string, Set<string>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = new Map<string, Set<string>>();
    for (const name of consumerNames()) {
      const [group] = (await admin.describeGroups([physicalGroupId(world.config, name)])).groups;
      const topics = new Set<string>();
      for (const member of group?.members ?? []) for (const t of Object.keys(AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {})) topics.add(t);
      result.set(name, topics);
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

/** Lag of each application consumer group on the topics assigned to it; a group with no member is a problem. */
async function groupLags(kafka: Kafka, world: DrillWorld): Promise<{ lags: Record<string, number>; behind: Record<string, string[]>; problems: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const lags: Record<string, number> = {};
  // Where a group is behind ("order.placed[3] at 10 of 14"): a stalled fetch and lost commits look alike in a total.
  const behind: Record<string, string[]> = {};
  const problems: string[] = [];
  try {
    for (const name of consumerNames()) {
      const groupId = physicalGroupId(world.config, name);
      const [group] = (await admin.describeGroups([groupId])).groups;
      const topics = new Set<string>();
      for (const member of group?.members ?? []) {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        for (const topic of Object.keys(decoded?.assignment ?? {})) topics.add(topic);
      }
      if (topics.size === 0) {
        problems.push(`consumer group ${name} has no member with an assignment (state ${group?.state})`);
        continue;
      }
      let lag = 0;
      behind[name] = [];
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      for (const topic of topics) {
        const highs = await admin.fetchTopicOffsets(topic);
        for (const p of highs) {
          const at = Number(committed.find((c) => c.topic === topic)?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
          lag += Number(p.high) - Math.max(0, at);
          if (Number(p.high) > Math.max(0, at)) behind[name]!.push(`${logicalTopic(world.config, topic)}[${p.partition}] at ${at} of ${p.high}`);
        }
      }
      lags[name] = lag;
    }
  } finally {
    await admin.disconnect();
  }
  return { lags, behind, problems };
}

/**
 * The last warnings and errors `name` logged (every instance, every start), condensed to one
 * line each: what a group that stopped committing was doing, in the problem itself, since CI
 * shows only the end of a run's output.
 */
export function lastTroubles(world: DrillWorld, name: string, count = 4): string[] {
  if (!existsSync(world.logDir)) return [];
  const files = readdirSync(world.logDir).filter((f) => f === `${name}.log` || new RegExp(`^${name}-\\d+\\.log$`).test(f));
  const lines: { time: number; text: string }[] = [];
  for (const file of files) {
    for (const raw of readFileSync(join(world.logDir, file), 'utf8').split('\n')) {
      if (!/"level":(40|50|60)/.test(raw)) continue;
      try {
        const entry = JSON.parse(raw) as { time: number; msg?: string; err?: { type?: string; message?: string }; step?: string };
        const err = entry.err ? `: ${entry.err.type ?? 'Error'}: ${entry.err.message ?? ''}` : '';
        lines.push({ time: entry.time, text: `${file} ${new Date(entry.time).toISOString().slice(11, 23)} ${entry.msg ?? ''}${err}`.slice(0, 300) });
      } catch {
        lines.push({ time: 0, text: raw.slice(0, 300) });
      }
    }
  }
  return lines
    .sort((a, b) => a.time - b.time)
    .slice(-count)
    .map((l) => l.text);
}

/**
 * Problems of one kind beyond `keep` (the same sentence about another order) folded into one
 * line, so a failed drill's output still ends with every kind of problem and not with the
 * 200th stuck order.
 */
export function foldProblems(problems: readonly string[], keep = 5): string[] {
  const kindOf = (p: string) => p.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>').replace(/\([^)]*\)/g, '(…)');
  const seen = new Map<string, number>();
  const folded: string[] = [];
  for (const p of problems) {
    const kind = kindOf(p);
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    if (n <= keep) folded.push(p);
  }
  for (const [kind, n] of seen) if (n > keep) folded.push(`… and ${n - keep} more: ${kind}`);
  return folded;
}

async function waitUntil<T>(settleBy: number, probe: () => Promise<{ done: boolean; value: T }>): Promise<T> {
  for (;;) {
    const { done, value } = await probe();
    if (done || performance.now() > settleBy) return value;
    await sleep(1000);
  }
}

function outcomeOf(status: string, captured: boolean, refunded: boolean, confirmed: boolean): TrackedOrder['outcome'] {
  if (status === 'DELIVERED') return 'delivered';
  if (status === 'PAYMENT_FAILED') return 'payment-failed';
  // Captured and given back before it was ever confirmed (the cancel won at the authority):
  // never a confirmed order, and no money kept.
  if (status === 'CANCELLED') return captured && refunded && confirmed ? 'cancelled-refunded' : 'placed';
  return status === 'PLACED' ? 'placed' : 'confirmed';
}

export async function auditDrill(world: DrillWorld, load: LoadResult, options: AuditOptions = {}): Promise<AuditResult> {
  const started = performance.now();
  const settleBy = started + (options.settleMs ?? 180_000);
  const problems: string[] = [];
  const mongo = await mongoose.createConnection(world.config.mongo.url).asPromise();
  const kafka = createKafka(world.config, 'drill-audit', log);
  try {
    const orders = orderModel(mongo);
    const acknowledged = load.orders.filter((o) => o.id);
    const promised = new Map(acknowledged.map((o) => [o.id!, promisedStatus(o)]));

    // 1. Orders reach what they were promised.
    const stored = await waitUntil(settleBy, async () => {
      const docs = await orders.find({}, { status: 1, restaurantId: 1, totalCents: 1, items: 1 }).lean();
      const byId = new Map(docs.map((d) => [String(d._id), d]));
      const done = [...promised].every(([id, status]) => byId.get(id)?.status === status) && docs.every((d) => FINAL.has(d.status));
      return { done, value: byId };
    });
    const settledAfter = (performance.now() - started) / 1000;
    let final = 0;
    for (const [id, status] of promised) {
      const shown = stored.get(id)?.status;
      if (shown === status) final++;
      else problems.push(`order ${id} (${load.orders.find((o) => o.id === id)?.paymentToken}, ${load.orders.find((o) => o.id === id)?.action}) is ${shown ?? 'missing from the read model'}, promised ${status}`);
    }
    const unacknowledged = [...stored.values()].filter((d) => !promised.has(String(d._id)));
    for (const d of unacknowledged) if (!FINAL.has(d.status)) problems.push(`order ${String(d._id)} (placed, never acknowledged) is stuck at ${d.status}`);

    // 2. Every application group has committed all it was given.
    const lagResult = await waitUntil(settleBy, async () => {
      const result = await groupLags(kafka, world);
      return { done: result.problems.length === 0 && Object.values(result.lags).every((l) => l === 0), value: result };
    });
    const settledAt = performance.now();
    problems.push(...lagResult.problems);
    for (const [name, lag] of Object.entries(lagResult.lags)) {
      if (lag !== 0) problems.push(`consumer group ${name} has ${lag} message(s) not committed (${lagResult.behind[name]?.slice(0, 8).join(', ')}); its last warnings: ${JSON.stringify(lastTroubles(world, name))}`);
    }

    // 3. The gateway's books.
    const ledger = await gatewayLedgerModel(mongo).find({}).lean<GatewayLedgerEntry[]>();
    const charges = ledger.filter((e) => e.kind === 'charge');
    const capturesOf = new Map<string, GatewayLedgerEntry[]>();
    for (const c of charges.filter((e) => e.status === 'captured' || e.status === 'refunded')) capturesOf.set(c.idempotencyKey, [...(capturesOf.get(c.idempotencyKey) ?? []), c]);
    const chargeByReference = new Map(charges.map((c) => [c.reference, c]));
    const refundsOf = new Map<string, GatewayLedgerEntry[]>();
    let wrongRefunds = 0;
    for (const r of ledger.filter((e) => e.kind === 'refund')) {
      const charge = chargeByReference.get(r.chargeReference ?? '');
      if (!charge) {
        wrongRefunds++;
        problems.push(`refund ${r.reference} gives back an unknown charge ${r.chargeReference}`);
        continue;
      }
      refundsOf.set(charge.idempotencyKey, [...(refundsOf.get(charge.idempotencyKey) ?? []), r]);
    }
    let duplicateCaptures = 0;
    let missingRefunds = 0;
    for (const [id, doc] of stored) {
      const captures = capturesOf.get(id)?.length ?? 0;
      const refunds = refundsOf.get(id) ?? [];
      if (captures > 1) {
        duplicateCaptures += captures - 1;
        problems.push(`order ${id} was captured ${captures} times`);
      }
      const charged = ['CONFIRMED', 'PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'].includes(doc.status);
      if (charged && captures !== 1) problems.push(`order ${id} is ${doc.status} with ${captures} capture(s)`);
      if (doc.status === 'PAYMENT_FAILED' && captures !== 0) problems.push(`order ${id} is PAYMENT_FAILED but was captured`);
      if (refunds.length > 0 && doc.status !== 'CANCELLED') {
        wrongRefunds += refunds.length;
        problems.push(`order ${id} is ${doc.status} but was refunded ${refunds.length} time(s)`);
      } else if (refunds.length > 1) {
        wrongRefunds += refunds.length - 1;
        problems.push(`order ${id} was refunded ${refunds.length} times`);
      }
      if (doc.status === 'CANCELLED' && captures === 1 && refunds.length === 0) {
        missingRefunds++;
        problems.push(`order ${id} is CANCELLED and was captured but never refunded`);
      }
      const refunded = refunds.reduce((s, r) => s + r.amountCents, 0);
      if (refunds.length === 1 && captures === 1 && refunded !== capturesOf.get(id)![0]!.amountCents) problems.push(`order ${id}: refunded ${refunded} of a ${capturesOf.get(id)![0]!.amountCents} capture`);
    }
    for (const key of capturesOf.keys()) if (!stored.has(key)) problems.push(`a capture for ${key}, which is no order in the read model`);

    // 4. Confirmations: confirmed on Kafka only when captured, and every capture confirmed but
    // one the order authority refused to confirm because a cancel won first (then it is
    // CANCELLED and refunded, checked above); one email per confirmation.
    const confirmedMessages = await readTopics(kafka, [physicalTopic(world.config, TOPICS.orderConfirmed)]);
    const confirmedIds = new Set(confirmedMessages.map((m) => (JSON.parse(m.value!.toString()) as { data: { orderId: string } }).data.orderId));
    let capturedThenCancelled = 0;
    for (const id of capturesOf.keys()) {
      if (confirmedIds.has(id)) continue;
      if (stored.get(id)?.status === 'CANCELLED' && refundsOf.has(id)) capturedThenCancelled++;
      else problems.push(`order ${id} was captured but never confirmed on ${TOPICS.orderConfirmed} (and is ${stored.get(id)?.status}, ${refundsOf.has(id) ? 'refunded' : 'not refunded'})`);
    }
    for (const id of confirmedIds) if (!capturesOf.has(id)) problems.push(`order ${id} was confirmed on ${TOPICS.orderConfirmed} without a capture`);
    const emailCounts = await waitUntil(settleBy, async () => {
      const counts = new Map([...confirmedIds].map((id) => [id, world.mailbox.confirmationsOf(id).length]));
      return { done: [...counts.values()].every((c) => c === 1), value: counts };
    });
    let duplicateEmails = 0;
    let emailsRepeatedAfterKill = 0;
    const notifications = notificationModel(mongo);
    for (const [id, count] of emailCounts) {
      if (count === 0) problems.push(`order ${id} was confirmed but no confirmation email arrived`);
      if (count > 1 && (await repeatedByDesign(world, id, count, notifications))) emailsRepeatedAfterKill++;
      else if (count > 1) {
        duplicateEmails += count - 1;
        problems.push(`order ${id} got ${count} confirmation emails`);
      }
    }
    const strayEmails = world.mailbox.received.length - [...emailCounts.values()].reduce((s, c) => s + c, 0);
    if (strayEmails !== 0) problems.push(`${strayEmails} email(s) for no order confirmed on Kafka`);

    // 5. Analytics equal a recount from the orders.
    const tracked: TrackedOrder[] = [...stored].map(([id, d]) => ({
      id,
      restaurantId: d.restaurantId,
      totalCents: d.totalCents,
      items: d.items.map((i) => ({ menuItemId: i.menuItemId, name: i.name, quantity: i.quantity })),
      outcome: outcomeOf(d.status, capturesOf.has(id), refundsOf.has(id), confirmedIds.has(id)),
    }));
    const adminToken = await tokenFor({ sub: 'drill-admin', role: 'ADMIN' });
    const analytics = await waitUntil<{ shown: unknown; expected: unknown }>(settleBy, async () => {
      const answer = await gql(world.graphqlUrl, ops.AnalyticsDocument, { topItems: 50 }, adminToken).catch(() => undefined);
      const shown = answer?.data?.analytics;
      if (!shown) return { done: false, value: { shown: undefined, expected: undefined } };
      const { updatedAt: _updatedAt, ...figures } = shown;
      // A cancelled order counts as cancelled whether it was refunded or cancelled before any
      // charge (expected-analytics.ts knows only the refunded kind; revenue stays captured − refunded).
      const expected = { ...expectedFigures(shown.scope, tracked), ordersCancelled: [...stored.values()].filter((d) => d.status === 'CANCELLED').length };
      return { done: JSON.stringify(figures) === JSON.stringify(expected), value: { shown: figures, expected } };
    });
    if (JSON.stringify(analytics.shown) !== JSON.stringify(analytics.expected)) {
      problems.push(`analytics differ from a recount of the orders: shown ${JSON.stringify(analytics.shown)}, recount ${JSON.stringify(analytics.expected)}`);
    }

    // 6. Dead letters and parked messages: each with its reason; none unexpected.
    const admin = kafka.admin();
    await admin.connect();
    const sideTopics = (await admin.listTopics()).filter((t) => t.startsWith(`${world.config.kafka.namespace}.`) && (t.endsWith('.dlq') || t.endsWith('.parked')));
    await admin.disconnect();
    const deadLetters: DeadLetter[] = (await readTopics(kafka, sideTopics)).map((m) => {
      const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
      const reason = Object.entries(headers).find(([k]) => /reason/i.test(k))?.[1];
      return { topic: logicalTopic(world.config, m.topic), reason, headers, value: m.value };
    });
    for (const letter of deadLetters) {
      if (!letter.reason) problems.push(`a message on ${letter.topic} carries no reason: ${JSON.stringify(letter.headers)}`);
      if (!options.expectedDeadLetter?.(letter)) problems.push(`unexpected message on ${letter.topic}: ${letter.reason}`);
    }


    const failures: Record<string, number> = {};
    for (const f of load.orders.flatMap((o) => o.failures)) failures[f.code] = (failures[f.code] ?? 0) + 1;
    const figures = {
      ordersPlaced: load.orders.filter((o) => o.placeAttempts > 0).length,
      acknowledged: acknowledged.length,
      final,
      inReadModel: stored.size,
      placedNeverAcknowledged: unacknowledged.length,
      captures: capturesOf.size,
      refunds: [...refundsOf.values()].flat().length,
      /** Captured, then cancelled before the authority confirmed it: refunded, never confirmed. */
      capturedThenCancelled,
      duplicates: duplicateCaptures + duplicateEmails,
      duplicateCaptures,
      duplicateEmails,
      /** Second copies of one email, each explained by a confirmations instance SIGKILLed after the server accepted the first (repeatedByDesign). */
      emailsRepeatedAfterKill,
      wrongRefunds,
      missingRefunds,
      emails: world.mailbox.received.length,
      deadLetters: deadLetters.length,
      deadLettersByTopic: Object.fromEntries([...new Set(deadLetters.map((d) => d.topic))].map((t) => [t, deadLetters.filter((d) => d.topic === t).length])),
      failedPlaceAttempts: failures,
      cancelsAccepted: load.orders.filter((o) => o.cancelAccepted).length,
      advancedToDelivered: load.orders.filter((o) => o.advancedTo === 'DELIVERED').length,
      loadSeconds: Math.round(load.seconds * 10) / 10,
      slowestAnswerMs: load.slowestAnswerMs,
      settledAfterAuditStartSeconds: Math.round(settledAfter * 10) / 10,
      auditSeconds: Math.round((performance.now() - started) / 100) / 10,
      /** Processes that exited by themselves and were started again (as `./dev up` does). */
      crashRestarts: world.unexpectedExits().map((e) => `${e.name} (code ${e.code}, signal ${e.signal}): ${e.tail.filter((l) => /"level":(50|60)/.test(l)).slice(-1)[0]?.slice(0, 300) ?? ''}`),
      problems: problems.length,
    };
    return { problems: foldProblems(problems), figures, deadLetters, settledAt };
  } finally {
    await mongo.close();
  }
}

/** Prints a drill's figures and writes them, with its problems, to .local/drills/<drill>.json. */
export function report(drill: string, figures: Record<string, unknown>, problems: readonly string[]): void {
  mkdirSync(DRILLS_DIR, { recursive: true });
  writeFileSync(join(DRILLS_DIR, `${drill}.json`), `${JSON.stringify({ drill, at: new Date().toISOString(), figures, problems }, null, 2)}\n`);
  const rows = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(32)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  console.log(`drill ${drill}:\n${rows.join('\n')}${problems.length > 0 ? `\n  problems:\n    ${problems.slice(0, 30).join('\n    ')}` : ''}`);
}
