/**
 * The operator's commands behind `./dev dlq` and `./dev replay`: argument parsing and output;
 * the work is in src/ops/.
 *
 *   ./dev dlq list [--topic T] [--reason R] [--parked | --dlq]
 *   ./dev dlq show <id>
 *   ./dev dlq redrive <id>... | --topic T | --reason R | --all   [--parked | --dlq]
 *   ./dev replay <module> [--switch]
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config';
import { AppError } from '../errors';
import { TOPICS } from '../events/topics';
import { createKafka } from '../kafka/client';
import type { Logger } from '../logger';
import { connectMongo } from '../mongo/connection';
import { redriveLetters, redriveRecords, scanLetters, type RedriveRecord, type ScanProgress } from '../ops/dead-letter-ops';
import { letterTopicsOf, matchesFilter, parseLetterId, type Letter, type LetterFilter } from '../ops/dead-letters';
import { diffGenerations, isIdentical } from '../ops/read-model-diff';
import { replay, REPLAYABLE, SIDE_EFFECTS, type ReplayProgress } from '../ops/replay';

export const DLQ_USAGE = `usage:
  ./dev dlq list [--topic <topic>] [--reason <text>] [--parked | --dlq]
  ./dev dlq show <id>
  ./dev dlq redrive <id>... | --topic <topic> | --reason <text> | --all   [--parked | --dlq]
ids look like order.placed.dlq:3:17 (as list prints them); --topic takes order.placed or order.placed.dlq;
--reason matches part of the reason or the error code; both kinds are listed unless --parked or --dlq.`;

export const REPLAY_USAGE = `usage: ./dev replay <module> [--switch]
  modules: ${Object.keys(REPLAYABLE).join(', ')} (not ${Object.keys(SIDE_EFFECTS).join(', ')}: they have side effects)
  without --switch the rebuilt collections stay beside the live ones, compared at the end;
  with --switch the read model moves to them once the live consumers are stopped.`;

/** One status line: rewritten in place on a terminal, every few seconds otherwise. */
function progressLine(): { show(text: string): void; end(): void } {
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  let shown = false;
  return {
    show(text) {
      if (tty) {
        process.stderr.write(`\r\x1b[K${text}`);
        shown = true;
      } else if (Date.now() - lastPrinted > 5_000) {
        process.stderr.write(`${text}\n`);
        lastPrinted = Date.now();
      }
    },
    end() {
      if (shown) process.stderr.write('\n');
    },
  };
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));

function filterFrom(values: { topic?: string; reason?: string; parked?: boolean; dlq?: boolean }, ids: readonly string[]): LetterFilter {
  if (values.parked && values.dlq) throw new AppError('BAD_USER_INPUT', '--parked and --dlq exclude each other; give neither to see both');
  for (const id of ids) parseLetterId(id);
  return { topic: values.topic, reason: values.reason, ids, kind: values.parked ? 'parked' : values.dlq ? 'dead-letter' : undefined };
}

async function withServices<T>(config: Config, log: Logger, work: (s: { kafka: ReturnType<typeof createKafka>; admin: ReturnType<ReturnType<typeof createKafka>['admin']>; connection: Awaited<ReturnType<typeof connectMongo>> }) => Promise<T>): Promise<T> {
  const quiet = log.child({}, { level: 'error' }); // not the connections' own notices
  const kafka = createKafka(config, 'ops', quiet);
  const admin = kafka.admin();
  await admin.connect();
  const connection = await connectMongo(config, quiet);
  try {
    return await work({ kafka, admin, connection });
  } finally {
    await Promise.allSettled([admin.disconnect(), connection.close()]);
  }
}

async function findLetters(config: Config, log: Logger, filter: LetterFilter, s: Parameters<Parameters<typeof withServices>[2]>[0]): Promise<Letter[]> {
  const topics = letterTopicsOf(Object.values(TOPICS), filter);
  if (topics.length === 0) throw new AppError('BAD_USER_INPUT', `no dead-letter or parking topic matches --topic ${filter.topic}; topics: ${Object.values(TOPICS).join(', ')}`);
  const line = progressLine();
  const letters = await scanLetters(s.kafka, s.admin, config, topics, ({ scanned, total }: ScanProgress) => line.show(`scanning ${topics.length} topic(s): ${scanned} of ${total} message(s)`));
  line.end();
  return letters.filter((l) => matchesFilter(l, filter));
}

const redrivenNote = (record: RedriveRecord | undefined) =>
  !record ? '' : record.state === 'sent' ? `redriven ${record.sentAt.toISOString()}` : `redrive in progress since ${record.since.toISOString()} (${record.by})`;

function printList(letters: readonly Letter[], records: ReadonlyMap<string, RedriveRecord>): void {
  if (letters.length === 0) return void console.log('no dead letters or parked messages match');
  console.log(`${'ID'.padEnd(34)} ${'KIND'.padEnd(6)} ${'FAILED AT'.padEnd(24)} ${'CODE'.padEnd(16)} ${'KEY'.padEnd(24)} REASON`);
  for (const l of letters) {
    const kind = l.kind === 'parked' ? 'parked' : 'dlq';
    const note = redrivenNote(records.get(l.id));
    console.log(`${clip(l.id, 34)} ${kind.padEnd(6)} ${clip(l.failedAt, 24)} ${clip(l.errorCode, 16)} ${clip(l.key?.toString() ?? '(none)', 24)} ${l.reason.split('\n')[0]}${note ? `  [${note}]` : ''}`);
  }
  const parked = letters.filter((l) => l.kind === 'parked').length;
  const redriven = letters.filter((l) => records.get(l.id)?.state === 'sent').length;
  console.log(`\n${letters.length - parked} dead letter(s), ${parked} parked; ${redriven} already redriven`);
}

function printLetter(letter: Letter, record: RedriveRecord | undefined): void {
  const value = letter.value?.toString('utf8') ?? '(none)';
  let pretty = value;
  try {
    pretty = JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    // shown as received: not JSON is often why it is here
  }
  console.log(`id              ${letter.id}`);
  console.log(`kind            ${letter.kind}`);
  console.log(`source topic    ${letter.sourceTopic}`);
  console.log(`consumer group  ${letter.consumerGroup}`);
  console.log(`failed at       ${letter.failedAt}`);
  console.log(`error code      ${letter.errorCode}`);
  console.log(`reason          ${letter.reason}`);
  console.log(`key             ${letter.key?.toString() ?? '(none)'}`);
  console.log(`redrive         ${redrivenNote(record) || 'not redriven'}`);
  console.log('headers');
  for (const [name, v] of Object.entries(letter.headers)) console.log(`  ${name}: ${String(v)}`);
  console.log(`value (${letter.value?.length ?? 0} bytes)\n${pretty}`);
}

export async function dlqCommand(args: readonly string[], config: Config, log: Logger): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { topic: { type: 'string' }, reason: { type: 'string' }, parked: { type: 'boolean' }, dlq: { type: 'boolean' }, all: { type: 'boolean' } },
  });
  const [sub, ...ids] = positionals;
  if (sub === 'list') {
    if (ids.length > 0) throw new AppError('BAD_USER_INPUT', `list takes no ids (use ./dev dlq show <id>)\n${DLQ_USAGE}`);
    const filter = filterFrom(values, []);
    return withServices(config, log, async (s) => {
      const letters = await findLetters(config, log, filter, s);
      printList(letters, await redriveRecords(s.connection, letters.map((l) => l.id)));
    });
  }
  if (sub === 'show') {
    if (ids.length !== 1) throw new AppError('BAD_USER_INPUT', `show takes one id\n${DLQ_USAGE}`);
    const filter = filterFrom({}, ids);
    return withServices(config, log, async (s) => {
      const [letter] = await findLetters(config, log, filter, s);
      if (!letter) throw new AppError('NOT_FOUND', `no dead letter ${ids[0]} (gone past the topic's retention, or a typo: ./dev dlq list shows the ids)`);
      printLetter(letter, (await redriveRecords(s.connection, [letter.id])).get(letter.id));
    });
  }
  if (sub === 'redrive') {
    if (ids.length === 0 && !values.topic && !values.reason && !values.all) {
      throw new AppError('BAD_USER_INPUT', `say which letters to redrive: ids, --topic, --reason, or --all for every one\n${DLQ_USAGE}`);
    }
    const filter = filterFrom(values, ids);
    return withServices(config, log, async (s) => {
      const letters = await findLetters(config, log, filter, s);
      const missing = ids.filter((id) => !letters.some((l) => l.id === id));
      if (missing.length > 0) throw new AppError('NOT_FOUND', `no dead letter ${missing.join(', ')}; nothing was redriven`);
      if (letters.length === 0) return void console.log('no dead letters or parked messages match; nothing to redrive');
      const outcomes = await redriveLetters(letters, {
        kafka: s.kafka,
        config,
        connection: s.connection,
        onRedriven: (o) =>
          console.log(
            o.outcome === 'redriven'
              ? `${o.id} → ${o.topic} partition ${o.partition} offset ${o.offset}`
              : o.outcome === 'already redriven'
                ? `${o.id} skipped: already redriven ${o.at.toISOString()}`
                : `${o.id} skipped: being redriven by another run since ${o.since.toISOString()}`,
          ),
      });
      const sent = outcomes.filter((o) => o.outcome === 'redriven').length;
      console.log(`\nredriven ${sent}, skipped ${outcomes.length - sent} (already redriven or in progress)`);
    });
  }
  throw new AppError('BAD_USER_INPUT', DLQ_USAGE);
}

const duration = (seconds: number | null) => (seconds === null ? '?' : seconds >= 90 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`);

export async function replayCommand(args: readonly string[], config: Config, log: Logger): Promise<void> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { switch: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new AppError('BAD_USER_INPUT', REPLAY_USAGE);
  const connection = await connectMongo(config, log.child({}, { level: 'error' }));
  const line = progressLine();
  try {
    const result = await replay({
      config,
      // The runner logs a line per round: only its warnings belong on an operator's terminal.
      log: log.child({}, { level: 'warn' }),
      connection,
      module: positionals[0]!,
      mode: values.switch ? 'switch' : 'beside',
      onProgress: (p: ReplayProgress) =>
        line.show(
          p.phase === 'replaying'
            ? `replaying: ${p.done} of ${p.total} events, ${p.perSecond.toFixed(0)}/s, ${duration(p.secondsLeft)} left`
            : p.phase === 'switching'
              ? `switching over after ${p.done} events…`
              : `caught up (${p.done} events); waiting for the live ${positionals[0]} consumers to stop before switching (stop their processes)`,
        ),
    });
    line.end();
    console.log(`${result.events} events replayed into ${result.collections.join(', ')}`);
    if (result.switched) {
      console.log(`${result.readModel} now reads from ${result.collections.join(', ')}; the live group's offsets moved to the replay's. Start ${result.module} again.`);
      console.log(`The previous collections (generation ${result.liveGeneration ?? 'original'}) are kept; drop them once no longer wanted.`);
      return;
    }
    console.log(`Compared with the live state:`);
    const diffs = await diffGenerations(connection, result.readModel, result.liveGeneration, result.generation);
    for (const d of diffs) {
      console.log(`  ${d.live} vs ${d.rebuilt}: ${d.same} same, ${d.different.length} different, ${d.onlyLive.length} only live, ${d.onlyRebuilt.length} only rebuilt`);
      for (const [what, ids] of [['different', d.different], ['only live', d.onlyLive], ['only rebuilt', d.onlyRebuilt]] as const) {
        if (ids.length > 0) console.log(`    ${what}: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`);
      }
    }
    console.log(isIdentical(diffs) ? 'identical.' : 'they differ (events the live side had not consumed yet show as "only rebuilt" or "different").');
  } finally {
    line.end();
    await connection.close();
  }
}
