/*
 * Dead letters and parked messages as an operator sees them: pure helpers (ids, filters, what a
 * redrive sends), no Kafka or Mongo. The I/O is in dead-letter-ops.ts.
 *
 * Both kinds have one shape (src/kafka/dead-letter.ts): the original key, value and headers,
 * byte for byte, plus headers naming why and where from (`dlq-*`). A letter's id is its own
 * position, `<topic>:<partition>:<offset>` with the logical topic (`order.placed.dlq:3:17`):
 * unique and stable for as long as the topic keeps it.
 */
import type { IHeaders } from 'kafkajs';
import { judgeClaim, type Claim } from '../consumers/claim';
import { AppError } from '../errors';
import { deadLetterTopic, parkingTopic, setAsideTopicOf, type SetAsideKind } from '../events/topics';
import { DEAD_LETTER_HEADERS } from '../kafka/dead-letter';

export type LetterKind = SetAsideKind;

/** One dead letter or parked message, read from its topic. */
export interface Letter {
  readonly id: string;
  readonly kind: LetterKind;
  /** The logical dead-letter or parking topic (`order.placed.dlq`). */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The logical topic it failed on, where a redrive sends it. */
  readonly sourceTopic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
  readonly reason: string;
  readonly errorCode: string;
  readonly consumerGroup: string;
  readonly failedAt: string;
}

/** The id of the message at `partition`/`offset` of logical topic `topic`. */
export const letterId = (topic: string, partition: number, offset: string): string => `${topic}:${partition}:${offset}`;

/** Parses an id back into its position; a malformed one is the operator's typo, said plainly. */
export function parseLetterId(id: string): { topic: string; partition: number; offset: string; kind: LetterKind } {
  const match = /^(.+):(\d+):(\d+)$/.exec(id);
  const setAside = match ? setAsideTopicOf(match[1]!) : null;
  if (!match || !setAside) {
    const expected = `${deadLetterTopic('<topic>')}:<partition>:<offset> or ${parkingTopic('<topic>')}:<partition>:<offset>`;
    throw new AppError('BAD_USER_INPUT', `"${id}" is not a dead-letter id: expected ${expected}, as \`./dev dlq list\` prints them`);
  }
  return { topic: match[1]!, kind: setAside.kind, partition: Number(match[2]), offset: match[3]! };
}

const text = (value: IHeaders[string]): string => (value === undefined ? '' : Array.isArray(value) ? value.map(String).join(',') : String(value));

/** PURE: a letter from a message of logical topic `topic` (a `.dlq` or `.parked` topic). */
export function letterOf(topic: string, partition: number, message: { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders }): Letter {
  const setAside = setAsideTopicOf(topic);
  const kind: LetterKind = setAside?.kind ?? 'dead-letter';
  const headers = message.headers ?? {};
  const header = (name: string) => text(headers[name]);
  return {
    id: letterId(topic, partition, message.offset),
    kind,
    topic,
    partition,
    offset: message.offset,
    // The header says where it came from; the topic's name says the same for a letter without it.
    sourceTopic: header(DEAD_LETTER_HEADERS.originalTopic) || (setAside?.source ?? topic),
    key: message.key,
    value: message.value,
    headers,
    reason: header(DEAD_LETTER_HEADERS.reason),
    errorCode: header(DEAD_LETTER_HEADERS.errorCode),
    consumerGroup: header(DEAD_LETTER_HEADERS.consumerGroup),
    failedAt: header(DEAD_LETTER_HEADERS.failedAt),
  };
}

/** Headers a consumer added when it gave up on a message; everything else is the message's own. */
export const isMarkingHeader = (name: string): boolean => /^(dlq|parked?)-/i.test(name);

/** PURE: what a redrive sends back to the source topic: the original key, value and headers. */
export function redriveMessageOf(letter: Letter): { topic: string; key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !isMarkingHeader(name)));
  return { topic: letter.sourceTopic, key: letter.key, value: letter.value, headers };
}

/** Which letters an operator means. Every given criterion must hold. */
export interface LetterFilter {
  /** Source topic (`order.placed`) or the dead-letter/parking topic itself (`order.placed.dlq`). */
  readonly topic?: string;
  /** Case-insensitive part of the reason or the error code. */
  readonly reason?: string;
  readonly ids?: readonly string[];
  /** Only one kind; both when absent. */
  readonly kind?: LetterKind;
}

/** PURE */
export function matchesFilter(letter: Letter, filter: LetterFilter): boolean {
  if (filter.kind && letter.kind !== filter.kind) return false;
  if (filter.topic && filter.topic !== letter.sourceTopic && filter.topic !== letter.topic) return false;
  if (filter.ids && filter.ids.length > 0 && !filter.ids.includes(letter.id)) return false;
  if (filter.reason) {
    const needle = filter.reason.toLowerCase();
    if (!letter.reason.toLowerCase().includes(needle) && !letter.errorCode.toLowerCase().includes(needle)) return false;
  }
  return true;
}

/** The logical dead-letter and parking topics of `sourceTopics` that `filter` may match. */
export function letterTopicsOf(sourceTopics: readonly string[], filter: LetterFilter): string[] {
  const kinds: LetterKind[] = filter.kind ? [filter.kind] : ['dead-letter', 'parked'];
  const wanted = (filter.ids ?? []).map((id) => parseLetterId(id).topic);
  return sourceTopics
    .filter((t) => !filter.topic || filter.topic === t || filter.topic === deadLetterTopic(t) || filter.topic === parkingTopic(t))
    .flatMap((t) => kinds.map((k) => (k === 'dead-letter' ? deadLetterTopic(t) : parkingTopic(t))))
    .filter((t) => !filter.topic || filter.topic === t || setAsideTopicOf(filter.topic) === null)
    .filter((t) => wanted.length === 0 || wanted.includes(t));
}

/** Why a letter is not sent now (RedriveOutcome without its id). */
export type RedriveRefusal = { readonly outcome: 'already redriven'; readonly at: Date } | { readonly outcome: 'being redriven elsewhere'; readonly since: Date };

export type RedriveVerdict =
  /** Claim the letter (or take over `takeOverToken`'s claim) and send it. */
  | { readonly kind: 'send'; readonly takeOverToken: string | null }
  /** Not now: sent already, or being sent by a run within its lease. */
  | { readonly kind: 'refused'; readonly outcome: RedriveRefusal };

/**
 * PURE: what redrive run `runId` may do about a letter, given its settlement (the redrive
 * record) and its claim, null where there is none: the claim judged as the consumers judge
 * theirs (judgeClaim), the run as the claimant.
 */
export function judgeRedrive(sent: { readonly sentAt: Date } | null, claim: Claim | null, runId: string, now: Date, leaseMs: number): RedriveVerdict {
  if (sent) return { kind: 'refused', outcome: { outcome: 'already redriven', at: sent.sentAt } };
  if (!claim) return { kind: 'send', takeOverToken: null };
  // A run that crashed (or stopped) between claim and record: taken over once its lease is past.
  const verdict = judgeClaim(claim, runId, now, leaseMs);
  if (verdict.kind === 'held') return { kind: 'refused', outcome: { outcome: 'being redriven elsewhere', since: claim.claimedAt } };
  return { kind: 'send', takeOverToken: claim.claimToken };
}
