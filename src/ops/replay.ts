/*
 * `./dev replay <module>`: rebuilds a consumer module's read model from the beginning of its
 * topics into fresh collections (a new generation, src/mongo/read-models.ts), beside the live
 * one, in a consumer group of its own, while the live module goes on.
 *
 * Once the replay has caught up with the live group (its committed offsets at or past the
 * live group's on every partition), either
 * - `beside` (the default): it stops there and the rebuilt collections stay beside the live
 *   ones for comparison (read-model-diff.ts); nothing the live side uses changes; or
 * - `switch`: it keeps up with the log until the live group has no members (the operator
 *   stops the module's processes; the replay says so and waits), stops, sets the live group's
 *   offsets to its own, and points the read model at the new generation. Everything before
 *   those offsets is in the new collections, and the live module, started again, writes the
 *   rest there: nothing missed, nothing counted twice. Readers follow the pointer within
 *   seconds. The group must be empty because Kafka moves a group's offsets only then.
 *
 * Modules with side effects refuse: a replay of transactions would charge again, of
 * confirmations would email again, of the order authority would decide again.
 */
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import type { Config } from '../config';
import { createAnalyticsConsumer } from '../consumers/analytics.consumer';
import { createOrdersProjector } from '../consumers/orders-projector.consumer';
import { AppError } from '../errors';
import { physicalGroupId, physicalTopic } from '../events/topics';
import { createKafka } from '../kafka/client';
import { startConsumer, type RunningConsumer } from '../kafka/consumer-runner';
import type { Logger } from '../logger';
import { collectionOf, liveGeneration, READ_MODELS, switchGeneration, type ReadModelName } from '../mongo/read-models';

interface Replayable {
  readonly readModel: ReadModelName;
  readonly topics: readonly string[];
  start(generation: string, options: { config: Config; log: Logger; groupId: string }): Promise<RunningConsumer>;
}

/** The modules a replay may rebuild: pure projections of the log into their own read model. */
export const REPLAYABLE: Readonly<Record<string, Replayable>> = {
  'orders-projector': {
    readModel: 'orders',
    topics: createOrdersProjector().topics,
    start: (generation, options) => startConsumer(createOrdersProjector({ generation }), options),
  },
  analytics: {
    readModel: 'analytics',
    topics: createAnalyticsConsumer().topics,
    // Silent: apps must not receive the figures of a model half rebuilt.
    start: (generation, options) => startConsumer(createAnalyticsConsumer({ generation, publishSnapshots: false }), options),
  },
};

/** Modules whose work is more than their own state, and what a replay would repeat. */
export const SIDE_EFFECTS: Readonly<Record<string, string>> = {
  transactions: 'it charges and refunds payments and emits order outcomes: a replay would repeat them',
  confirmations: 'it emails customers: a replay would send every confirmation again',
  'order-authority': 'it decides order transitions and emits them: a replay would decide and emit them again',
};

export type ReplayMode = 'beside' | 'switch';

export interface ReplayProgress {
  readonly phase: 'replaying' | 'waiting for the live group to stop' | 'switching';
  readonly done: number;
  readonly total: number;
  readonly perSecond: number;
  /** null until a rate is known. */
  readonly secondsLeft: number | null;
}

export interface ReplayOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly connection: Connection;
  readonly module: string;
  readonly mode: ReplayMode;
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** @default 1000 */
  readonly pollMs?: number;
  /** Called (and awaited) once when `switch` has caught up and starts waiting for the live group to stop. */
  readonly onWaitingForLive?: () => Promise<void>;
  /** How long `switch` waits for the live group to stop. @default 30 minutes */
  readonly liveStopTimeoutMs?: number;
}

export interface ReplayResult {
  readonly module: string;
  readonly readModel: ReadModelName;
  readonly generation: string;
  readonly collections: readonly string[];
  /** The generation live before (still live when not switched). */
  readonly liveGeneration: string | null;
  readonly switched: boolean;
  readonly events: number;
  /** Where the replay stopped (`<topic>:<partition>` → next offset); when switched, where the live group resumes. */
  readonly offsets: Readonly<Record<string, string>>;
}

/** Which module to replay, or an error saying why not and what can be. */
export function replayableModule(name: string): Replayable {
  const replayable = REPLAYABLE[name];
  if (replayable) return replayable;
  const why = SIDE_EFFECTS[name];
  const can = `modules that can be replayed: ${Object.keys(REPLAYABLE).join(', ')}`;
  if (why) throw new AppError('BAD_USER_INPUT', `${name} cannot be replayed: ${why}. (${can})`);
  throw new AppError('BAD_USER_INPUT', `there is no consumer module "${name}"; ${can}`);
}

/** A new generation's name: sorts by time, valid in a collection name. */
export const newGeneration = (now = new Date()): string => `r${now.toISOString().replace(/[-:]/g, '').replace('T', 't').slice(0, 15)}`;

type Offsets = Map<string, bigint>; // `topic:partition` → next offset to read (committed), or the log end

async function committed(admin: Admin, groupId: string, topics: readonly string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
    for (const p of partitions) out.set(`${topic}:${p.partition}`, BigInt(p.offset));
  }
  return out;
}

async function logBounds(admin: Admin, topics: readonly string[]): Promise<{ low: Offsets; high: Offsets }> {
  const [low, high]: [Offsets, Offsets] = [new Map(), new Map()];
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      low.set(`${topic}:${p.partition}`, BigInt(p.low));
      high.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
  }
  return { low, high };
}

/** Runs a replay to its end (see the header comment). */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { config, connection, mode } = options;
  const module = replayableModule(options.module);
  const generation = newGeneration();
  const log = options.log.child({ replay: options.module, generation });
  const replayGroup = physicalGroupId(config, `${options.module}.replay-${generation}`);
  const liveGroup = physicalGroupId(config, options.module);
  const topics = module.topics.map((t) => physicalTopic(config, t));
  const before = await liveGeneration(connection, module.readModel);
  const collections = READ_MODELS[module.readModel].map((base) => collectionOf(base, generation));
  log.info({ collections, replayGroup }, `replaying ${options.module} into ${collections.join(', ')}`);

  const kafka = createKafka(config, `replay-${options.module}`, log);
  const admin = kafka.admin();
  await admin.connect();
  let running: RunningConsumer | null = null;
  const pollMs = options.pollMs ?? 1_000;
  try {
    running = await module.start(generation, { config, log, groupId: `${options.module}.replay-${generation}` });
    const startedAt = Date.now();
    let waitingSince: number | null = null;
    let events = 0;
    for (;;) {
      const { low, high } = await logBounds(admin, topics);
      const [mine, live] = await Promise.all([committed(admin, replayGroup, topics), committed(admin, liveGroup, topics)]);
      const at = (offsets: Offsets, key: string) => {
        const offset = offsets.get(key) ?? -1n;
        return offset < 0n ? low.get(key)! : offset;
      };
      const keys = [...high.keys()];
      const done = keys.reduce((sum, k) => sum + Number(at(mine, k) - low.get(k)!), 0);
      const total = keys.reduce((sum, k) => sum + Number(high.get(k)! - low.get(k)!), 0);
      events = done;
      // The live group's position; where it never committed, the end of the log.
      const caughtUp = keys.every((k) => at(mine, k) >= ((live.get(k) ?? -1n) >= 0n ? live.get(k)! : high.get(k)!));
      const perSecond = done / Math.max(0.001, (Date.now() - startedAt) / 1000);
      const secondsLeft = perSecond > 0 ? Math.max(0, total - done) / perSecond : null;
      if (!caughtUp || mode === 'beside') options.onProgress?.({ phase: 'replaying', done, total, perSecond, secondsLeft });
      if (caughtUp && mode === 'beside') break;
      if (caughtUp) {
        const [group] = (await admin.describeGroups([liveGroup])).groups;
        if ((group?.members.length ?? 0) === 0) break;
        options.onProgress?.({ phase: 'waiting for the live group to stop', done, total, perSecond, secondsLeft: 0 });
        if (waitingSince === null) {
          waitingSince = Date.now();
          log.warn({ liveGroup }, `caught up with ${liveGroup}; stop its ${options.module} processes to switch over (the replay keeps up meanwhile)`);
          await options.onWaitingForLive?.();
          continue;
        }
        if (Date.now() - waitingSince > (options.liveStopTimeoutMs ?? 30 * 60_000)) {
          throw new AppError('UNAVAILABLE', `${liveGroup} still has running members; nothing was switched (the rebuilt collections ${collections.join(', ')} are kept)`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    if (mode === 'switch') {
      // The live group is stopped: take in what arrived up to now, so the live consumers start
      // again with no backlog. (Not needed for correctness: they would redo it idempotently.)
      const { low, high } = await logBounds(admin, topics);
      for (;;) {
        const mine = await committed(admin, replayGroup, topics);
        const done = [...mine.values()].reduce((sum, o) => sum + Number(o > 0n ? o : 0n), 0);
        options.onProgress?.({ phase: 'switching', done, total: done, perSecond: 0, secondsLeft: null });
        if ([...high].every(([k, end]) => (mine.get(k) ?? -1n) >= end || end === low.get(k))) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    }
    // Stopping commits the rounds in flight: from here the replay's offsets are final.
    await running.stop();
    running = null;
    const final = await committed(admin, replayGroup, topics);
    events = [...final.values()].reduce((sum, o) => sum + Number(o > 0n ? o : 0n), 0);
    const offsets = Object.fromEntries([...final].map(([k, o]) => [k, String(o)]));
    if (mode === 'beside') {
      log.info({ events }, `rebuilt ${collections.join(', ')} beside the live ${collectionOf(module.readModel, before)}`);
      return { module: options.module, readModel: module.readModel, generation, collections, liveGeneration: before, switched: false, events, offsets };
    }
    const { low } = await logBounds(admin, topics);
    for (const topic of topics) {
      const partitions = [...low.keys()].filter((k) => k.startsWith(`${topic}:`)).map((k) => {
        const offset = final.get(k) ?? -1n;
        return { partition: Number(k.slice(topic.length + 1)), offset: String(offset >= 0n ? offset : low.get(k)!) };
      });
      try {
        // Refused by Kafka while the group has members: then nothing has been switched yet.
        await admin.setOffsets({ groupId: liveGroup, topic, partitions });
      } catch (error) {
        throw new AppError('CONFLICT', `could not move ${liveGroup}'s offsets (did one of its processes start again?); the read model was not switched, the rebuilt collections ${collections.join(', ')} are kept`, { cause: error });
      }
    }
    await switchGeneration(connection, module.readModel, generation);
    log.info({ events, previous: collectionOf(module.readModel, before) }, `switched ${module.readModel} to ${collections.join(', ')}; start ${options.module} again`);
    return { module: options.module, readModel: module.readModel, generation, collections, liveGeneration: before, switched: true, events, offsets };
  } finally {
    await running?.stop().catch(() => undefined);
    await admin.deleteGroups([replayGroup]).catch(() => undefined);
    await admin.disconnect();
  }
}
