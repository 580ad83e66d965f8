/**
 * `./dev dlq` against the real broker and FerretDB: dead letters and parked messages are listed
 * by topic, reason and kind, shown by id, and redriven to their source topic with their original
 * key, value and headers (minus the dead-letter ones), once per letter however often redrive
 * is run; a redrive that crashed mid-way is taken over after its lease.
 */
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dlqCommand } from '../../src/devstack/ops-commands';
import { AppError } from '../../src/errors';
import { ensureTopics, TOPICS } from '../../src/events/topics';
import { connectFreshProducer, createKafka } from '../../src/kafka/client';
import { connectDeadLetterProducer, type DeadLetterProducer } from '../../src/kafka/dead-letter';
import { connectMongo } from '../../src/mongo/connection';
import { claimId, claimModel } from '../../src/mongo/models/claim.model';
import { redriveModel } from '../../src/mongo/models/redrive.model';
import { REDRIVE, redriveLetters, REDRIVE_LEASE_MS, scanLetters } from '../../src/ops/dead-letter-ops';
import { letterTopicsOf, matchesFilter, type Letter } from '../../src/ops/dead-letters';
import { removeTestNamespace, startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, type Tap } from '../support/services';

const namespace = uniqueName('dlq');
const mongoUrl = uniqueMongoUrl('dlq');
const config = testConfig({ KAFKA_NAMESPACE: namespace, MONGO_URL: mongoUrl });
const log = testLogger('dlq-test');
const kafka = createKafka(config, uniqueName('dlq-test'), log);
const ALL_TOPICS = letterTopicsOf(Object.values(TOPICS), {});

let admin: Admin;
let deadLetters: DeadLetterProducer;
let connection: Connection;
let tap: Tap;

const failed = (topic: string, key: string, value: string, offset: string) => ({
  topic,
  partition: 0,
  message: { key: Buffer.from(key), value: Buffer.from(value), headers: { 'trace-id': `trace-${key}` }, offset },
});

/** Runs a `./dev dlq` command in-process and returns what it printed. */
async function dlq(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.join(' ')));
  try {
    await dlqCommand(args, config, log);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

const scan = () => scanLetters(kafka, admin, config, ALL_TOPICS);
const byKey = (letters: readonly Letter[], key: string) => letters.find((l) => l.key?.toString() === key)!;

beforeAll(async () => {
  admin = testKafka().admin();
  await admin.connect();
  await ensureTopics(admin, config, log);
  connection = await connectMongo(config, log);
  deadLetters = await connectDeadLetterProducer(kafka, config);
  await deadLetters.send(failed('order.placed', 'ord-junk', 'not json {', '7'), new AppError('INVALID_EVENT', 'order.placed is not JSON'), 'transactions');
  await deadLetters.send(failed('order.placed', 'ord-schema', '{"type":"order.placed"}', '8'), new AppError('INVALID_EVENT', 'data.items: Required'), 'orders-projector');
  await deadLetters.send(failed('order.cancelled', 'ord-cancel', '{"x":1}', '3'), new AppError('CONFLICT', 'cannot cancel a DELIVERED order'), 'transactions');
  await deadLetters.park(failed('order.status-changed', 'ord-parked', '{"ok":true}', '11'), new AppError('UNAVAILABLE', 'payment gateway timed out'), 'transactions', '3 restarts in a row');
  tap = await startTap(config, ['order.placed', 'order.status-changed', 'order.cancelled']);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([tap?.stop(), deadLetters?.disconnect(), admin?.disconnect(), connection?.close()]);
  await removeTestNamespace(namespace, mongoUrl);
});

describe('dead letters', () => {
  it('lists both kinds with their reason, and filters by topic, reason and kind', async () => {
    const letters = await scan();
    expect(letters.map((l) => [l.kind, l.sourceTopic, l.key?.toString()]).sort()).toEqual([
      ['dead-letter', 'order.cancelled', 'ord-cancel'],
      ['dead-letter', 'order.placed', 'ord-junk'],
      ['dead-letter', 'order.placed', 'ord-schema'],
      ['parked', 'order.status-changed', 'ord-parked'],
    ]);
    const junk = byKey(letters, 'ord-junk');
    expect(junk).toMatchObject({ topic: 'order.placed.dlq', reason: 'order.placed is not JSON', errorCode: 'INVALID_EVENT', consumerGroup: 'transactions' });
    expect(junk.id).toMatch(/^order\.placed\.dlq:\d+:\d+$/);
    const keys = (filter: Parameters<typeof matchesFilter>[1]) => letters.filter((l) => matchesFilter(l, filter)).map((l) => l.key?.toString()).sort();
    expect(keys({ topic: 'order.placed' })).toEqual(['ord-junk', 'ord-schema']);
    expect(keys({ topic: 'order.placed.dlq' })).toEqual(['ord-junk', 'ord-schema']);
    expect(keys({ reason: 'required' })).toEqual(['ord-schema']);
    expect(keys({ reason: 'conflict' })).toEqual(['ord-cancel']); // the error code counts too
    expect(keys({ kind: 'parked' })).toEqual(['ord-parked']);

    const listed = await dlq('list', '--topic', 'order.placed');
    expect(listed).toContain(junk.id);
    expect(listed).not.toContain('ord-cancel');
    expect(listed).toContain('2 dead letter(s), 0 parked; 0 already redriven');
    expect(await dlq('list', '--parked')).toContain('0 dead letter(s), 1 parked');
    const shown = await dlq('show', junk.id);
    expect(shown).toContain('reason          order.placed is not JSON');
    expect(shown).toContain('not json {');
    await expect(dlq('show', 'order.placed.dlq:0:999999')).rejects.toThrow(/no dead letter order\.placed\.dlq:0:999999/);
    await expect(dlq('show', 'nonsense')).rejects.toThrow(/not a dead-letter id/);
    await expect(dlq('redrive')).rejects.toThrow(/say which letters to redrive/);
  }, 60_000);

  it('redrives the original bytes to the source topic, once however often it is asked', async () => {
    const junk = byKey(await scan(), 'ord-junk');
    expect(await dlq('redrive', junk.id)).toContain('redriven 1, skipped 0');
    const [back] = await tap.waitFor('order.placed', 1);
    expect(back).toMatchObject({ key: 'ord-junk', value: 'not json {', headers: { 'trace-id': 'trace-ord-junk' } });
    expect(Object.keys(back!.headers).filter((h) => h.startsWith('dlq-'))).toEqual([]);

    const again = await dlq('redrive', junk.id);
    expect(again).toContain(`${junk.id} skipped: already redriven`);
    expect(again).toContain('redriven 0, skipped 1');
    // A marker behind it on the same key (so the same partition): had a second copy been sent, it would come first.
    const producer = await connectFreshProducer(kafka);
    await producer.use((p) => p.send({ topic: `${namespace}.order.placed`, messages: [{ key: 'ord-junk', value: 'marker' }] }));
    await producer.disconnect();
    await waitFor(() => tap.of('order.placed').some((m) => m.value === 'marker'), 20_000, 'the marker');
    expect(tap.of('order.placed').map((m) => m.value)).toEqual(['not json {', 'marker']);
    expect(await dlq('list', '--topic', 'order.placed')).toContain('1 already redriven');
  }, 60_000);

  it('redrives parked messages by kind, and takes over a redrive that crashed past its lease', async () => {
    expect(await dlq('redrive', '--parked', '--all')).toContain('redriven 1, skipped 0');
    const [parked] = await tap.waitFor('order.status-changed', 1);
    expect(parked).toMatchObject({ key: 'ord-parked', value: { ok: true }, headers: { 'trace-id': 'trace-ord-parked' } });
    expect(Object.keys(parked!.headers).filter((h) => h.startsWith('dlq-'))).toEqual([]);

    const letters = await scan();
    const [schema, cancel] = [byKey(letters, 'ord-schema'), byKey(letters, 'ord-cancel')];
    // Two runs' claims with nothing sent: one crashed long ago, one still at work.
    const claimOf = (letter: Letter, claimedBy: string, msAgo: number) => ({
      _id: claimId(REDRIVE, letter.id),
      effect: REDRIVE,
      subjectId: letter.id,
      intent: 'send',
      claimToken: `token-of-${claimedBy}`,
      claimedBy,
      claimedAt: new Date(Date.now() - msAgo),
      attempts: 1,
      failedReason: null,
    });
    await claimModel(connection).create([claimOf(schema, 'crashed-run', REDRIVE_LEASE_MS + 5_000), claimOf(cancel, 'busy-run', 1_000)]);
    expect(await dlq('show', cancel.id)).toMatch(/redrive +redrive in progress since .* \(busy-run\)/);
    const outcomes = await redriveLetters([schema, cancel], { kafka, config, connection });
    expect(outcomes.map((o) => [o.id, o.outcome])).toEqual([
      [schema.id, 'redriven'],
      [cancel.id, 'being redriven elsewhere'],
    ]);
    await waitFor(() => tap.of('order.placed').some((m) => m.key === 'ord-schema'), 20_000, 'the taken-over redrive');
    expect(await redriveModel(connection).findById(schema.id).lean()).toMatchObject({ state: 'sent', claimedBy: expect.stringMatching(/^redrive-/), attempts: 2 });
    expect(await redriveModel(connection).findById(cancel.id).lean()).toBeNull();
    expect(tap.of('order.cancelled')).toEqual([]);
  }, 60_000);
});
