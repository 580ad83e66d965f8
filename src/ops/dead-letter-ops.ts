/*
 * Reading dead letters (and parked messages) from Kafka and sending them back to their source
 * topic, once. Used by `./dev dlq` (src/devstack/ops-commands.ts).
 *
 * Redrive is idempotent through the consumers' claim → effect → settle primitive
 * (src/consumers/claim.ts), the letter as subject and the run as claimant: each letter's
 * `redrive` claim (claims collection, `redrive:<letter id>`) is taken before the send, and the
 * send is settled after it in `dead_letter_redrives`, one document per letter keyed by the
 * letter's own position (dead-letters.ts), so a second redrive of the same letter finds it and
 * sends nothing. Why a ledger and not a header on the redriven message: checking a header would
 * mean reading the whole source topic (kept forever) for every redrive; the ledger is one lookup
 * by key and outlives the dead-letter topic's 30 days. A redrive that crashed between claim and
 * settlement is taken over once its lease is past and sent again: the consumers are idempotent
 * by event id, so that rare second copy changes nothing. A letter whose message fails again is
 * dead-lettered again, as a new letter with its own id, to be redriven after the next fix.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Connection } from 'mongoose';
import type { Config } from '../config';
import { AppError } from '../errors';
import { logicalTopic, physicalGroupId, physicalTopic } from '../events/topics';
import { connectFreshProducer } from '../kafka/client';
import { claimEffects, settleEffects } from '../consumers/claim';
import { ClaimLostError } from '../consumers/consumer.errors';
import { findByIds } from '../mongo/bulk';
import { claimId, claimModel, type ClaimDocument, type ClaimModel } from '../mongo/models/claim.model';
import { redriveModel, type RedriveDocument, type RedriveModel } from '../mongo/models/redrive.model';
import { judgeRedrive, letterOf, redriveMessageOf, type Letter } from './dead-letters';

/** The claims' effect: one `redrive` claim per letter. */
export const REDRIVE = 'redrive';

/** A redrive claim older than this is taken to have crashed, and is taken over. */
export const REDRIVE_LEASE_MS = 60_000;

/** How long a scan may see no new message before it gives up (a broker that stopped answering). */
const SCAN_STALL_MS = 30_000;

export interface ScanProgress {
  readonly scanned: number;
  readonly total: number;
}

/**
 * Every message of the given logical topics, from the beginning to where each partition ended
 * when the scan began. Topics that do not exist (a parking topic of an older deployment) are
 * skipped. Reads in a throwaway consumer group, deleted at the end.
 */
export async function scanLetters(
  kafka: Kafka,
  admin: Admin,
  config: Config,
  topics: readonly string[],
  onProgress?: (progress: ScanProgress) => void,
): Promise<Letter[]> {
  const existing = new Set(await admin.listTopics());
  const physical = topics.map((t) => physicalTopic(config, t)).filter((t) => existing.has(t));
  const ends = new Map<string, bigint>(); // `topic:partition` → offset of its last message
  let total = 0;
  for (const topic of physical) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
      total += Number(BigInt(p.high) - BigInt(p.low));
    }
  }
  if (ends.size === 0) return [];

  const groupId = physicalGroupId(config, `ops.dead-letters.${randomUUID().slice(0, 8)}`);
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const letters: Letter[] = [];
  let lastSeen = Date.now();
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: physical, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const watchdog = setInterval(() => {
        onProgress?.({ scanned: letters.length, total });
        if (Date.now() - lastSeen > SCAN_STALL_MS) {
          clearInterval(watchdog);
          reject(new AppError('UNAVAILABLE', `reading the dead-letter topics stalled for ${SCAN_STALL_MS / 1000} s (is Kafka up? ./dev services status)`));
        }
      }, 1_000);
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            lastSeen = Date.now();
            const end = ends.get(`${topic}:${partition}`);
            if (end === undefined || BigInt(message.offset) > end) return; // arrived after the scan began
            letters.push(letterOf(logicalTopic(config, topic), partition, { offset: message.offset, key: message.key, value: message.value, headers: message.headers }));
            if (BigInt(message.offset) === end) ends.delete(`${topic}:${partition}`);
            if (ends.size === 0) {
              clearInterval(watchdog);
              resolve();
            }
          },
        })
        .catch((error: unknown) => {
          clearInterval(watchdog);
          reject(error);
        });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  onProgress?.({ scanned: letters.length, total });
  return letters.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** A letter's redrive as `./dev dlq list|show` report it. */
export type RedriveRecord =
  | { readonly state: 'sent'; readonly sentAt: Date; readonly by: string }
  /** Claimed and not (yet) recorded as sent: under way, or a crashed run's, taken over after its lease. */
  | { readonly state: 'sending'; readonly since: Date; readonly by: string };

/** Which of `ids` were redriven (or are being), by id. */
export async function redriveRecords(connection: Connection, ids: readonly string[]): Promise<Map<string, RedriveRecord>> {
  if (ids.length === 0) return new Map();
  // One query for the whole ledger, filtered here: FerretDB v1 reads the whole collection for an $in anyway.
  const wanted = new Set(ids);
  const records = new Map<string, RedriveRecord>();
  for (const d of await redriveModel(connection).find().lean()) {
    if (wanted.has(d._id)) records.set(d._id, { state: 'sent', sentAt: d.sentAt, by: d.claimedBy });
  }
  // The claims collection holds every order's too: point reads of the letters not sent.
  const unsent = ids.filter((id) => !records.has(id));
  const claims = await findByIds(claimModel(connection), unsent.map((id) => claimId(REDRIVE, id)));
  for (const c of claims.values()) records.set(c.subjectId, { state: 'sending', since: c.claimedAt, by: c.claimedBy });
  return records;
}

export type RedriveOutcome =
  | { readonly id: string; readonly outcome: 'redriven'; readonly topic: string; readonly partition: number; readonly offset: string }
  | { readonly id: string; readonly outcome: 'already redriven'; readonly at: Date }
  | { readonly id: string; readonly outcome: 'being redriven elsewhere'; readonly since: Date };

interface Ledger {
  readonly claims: ClaimModel;
  readonly redrives: RedriveModel;
}

/** Claims a letter for this run (judgeRedrive, then claimEffects): the claim, or why it is not sent now. */
async function claimLetter({ claims, redrives }: Ledger, letter: Letter, runId: string): Promise<ClaimDocument | RedriveOutcome> {
  const now = new Date();
  const [sent, held] = await Promise.all([redrives.findById(letter.id).lean(), claims.findById(claimId(REDRIVE, letter.id)).lean()]);
  const verdict = judgeRedrive(sent, held, runId, now, REDRIVE_LEASE_MS);
  if (verdict.kind === 'refused') return { id: letter.id, ...verdict.outcome };
  const [claim] = await claimEffects(claims, [{ effect: REDRIVE, subjectId: letter.id, intent: 'send', takeOverToken: verdict.takeOverToken }], runId, now);
  // Another run claimed it (or took it over) since it was read.
  if (claim instanceof ClaimLostError) return { id: letter.id, outcome: 'being redriven elsewhere', since: now };
  return claim!;
}

/**
 * Sends each letter's original key, value and headers (without the `dlq-*` ones) back to its
 * source topic, at most once per letter (see the header comment), one at a time in the given
 * order: one order's letters go back in the order they failed.
 */
export async function redriveLetters(
  letters: readonly Letter[],
  { kafka, config, connection, onRedriven }: { kafka: Kafka; config: Config; connection: Connection; onRedriven?: (outcome: RedriveOutcome) => void },
): Promise<RedriveOutcome[]> {
  const runId = `redrive-${process.pid}-${randomUUID().slice(0, 8)}`;
  const ledger: Ledger = { claims: claimModel(connection), redrives: redriveModel(connection) };
  await Promise.all([ledger.claims.init(), ledger.redrives.init()]);
  const producer = await connectFreshProducer(kafka);
  const outcomes: RedriveOutcome[] = [];
  try {
    for (const letter of letters) {
      const claim = await claimLetter(ledger, letter, runId);
      if ('outcome' in claim) {
        outcomes.push(claim);
        onRedriven?.(claim);
        continue;
      }
      const { topic, key, value, headers } = redriveMessageOf(letter);
      const [sent] = await producer.use((p) => p.send({ topic: physicalTopic(config, topic), acks: -1, messages: [{ key, value, headers }] }));
      const sentTo = { partition: sent?.partition ?? -1, offset: sent?.baseOffset ?? '' };
      const record: RedriveDocument = { _id: letter.id, state: 'sent', sourceTopic: letter.sourceTopic, claimedBy: runId, attempts: claim.attempts, sentAt: new Date(), sentTo };
      // A run this one took over may have recorded its send first: that record stays (both sent).
      await settleEffects(ledger.redrives, [record]);
      const outcome: RedriveOutcome = { id: letter.id, outcome: 'redriven', topic, ...sentTo };
      outcomes.push(outcome);
      onRedriven?.(outcome);
    }
  } finally {
    await producer.disconnect();
  }
  return outcomes;
}
