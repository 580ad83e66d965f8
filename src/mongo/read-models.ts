import { Schema, type Connection, type Model } from 'mongoose';
import type { Logger } from '../logger';

/*
 * Which collections hold each read model now: one pointer document per model in `read_models`.
 *
 * A replay (`./dev replay`, src/ops/replay.ts) rebuilds a model into collections of a new
 * *generation* (`orders_<generation>`, beside `orders`) and, when the operator asks, switches
 * the model over by rewriting its pointer: one single-document write, so every reader sees
 * either the old generation or the new one, never a mix. No pointer document means the
 * original collections (generation null), so a deployment that never replayed needs none.
 *
 * Readers: the API reads the pointer at start and again every few seconds (watchReadModels);
 * a consumer module that writes a model reads it once at setup, since a switch happens only
 * while that module's consumer group is stopped (the replay moves the group's offsets then).
 */

/** Each read model a replay can rebuild, and the collections it consists of. */
export const READ_MODELS = {
  orders: ['orders'],
  analytics: ['analytics', 'analytics_facts'],
} as const;

export type ReadModelName = keyof typeof READ_MODELS;

/** The collection of `base` in `generation` (null: the original collection). */
export function collectionOf(base: string, generation: string | null): string {
  return generation ? `${base}_${generation}` : base;
}

export interface ReadModelPointerDocument {
  _id: ReadModelName;
  /** The live generation; null: the original collections. */
  generation: string | null;
  /** The generation it replaced, kept for comparison or rollback until dropped by hand. */
  previousGeneration: string | null;
  switchedAt: Date;
}

const pointerSchema = new Schema<ReadModelPointerDocument>(
  {
    _id: { type: String, required: true },
    generation: { type: String, default: null },
    previousGeneration: { type: String, default: null },
    switchedAt: { type: Date, required: true },
  },
  { collection: 'read_models', versionKey: false },
);

export type ReadModelPointerModel = Model<ReadModelPointerDocument>;

export function readModelPointerModel(connection: Connection): ReadModelPointerModel {
  return (connection.models.ReadModelPointer as ReadModelPointerModel | undefined) ?? connection.model<ReadModelPointerDocument>('ReadModelPointer', pointerSchema);
}

/** The live generation of `model` (null: the original collections). */
export async function liveGeneration(connection: Connection, model: ReadModelName): Promise<string | null> {
  const doc = await readModelPointerModel(connection).findById(model).lean();
  return doc?.generation ?? null;
}

/** Points `model` at `generation`; returns the generation it replaced. */
export async function switchGeneration(connection: Connection, model: ReadModelName, generation: string | null, now = new Date()): Promise<string | null> {
  const previous = await liveGeneration(connection, model);
  await readModelPointerModel(connection).updateOne(
    { _id: model },
    { $set: { generation, previousGeneration: previous, switchedAt: now } },
    { upsert: true },
  );
  return previous;
}

/** The live generations as one reader (an API instance) last read them. */
export interface ReadModelPointers {
  generation(model: ReadModelName): string | null;
  /** Reads every pointer again now. */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * Reads the pointers now and again every `intervalMs`. A failed refresh keeps the last known
 * generations (a reader is never left without one) and logs; the next one tries again.
 */
export async function watchReadModels(connection: Connection, options: { readonly intervalMs: number; readonly log: Logger }): Promise<ReadModelPointers> {
  const known = new Map<ReadModelName, string | null>();
  const refresh = async () => {
    const docs = await readModelPointerModel(connection).find().lean();
    for (const model of Object.keys(READ_MODELS) as ReadModelName[]) {
      const generation = docs.find((d) => d._id === model)?.generation ?? null;
      if (known.has(model) && known.get(model) !== generation) options.log.info({ model, generation }, `read model ${model} switched to ${collectionOf(model, generation)}`);
      known.set(model, generation);
    }
  };
  await refresh();
  const timer = setInterval(() => refresh().catch((error: unknown) => options.log.warn({ err: error }, 'could not re-read the read model pointers; keeping the last ones')), options.intervalMs);
  timer.unref();
  return { generation: (model) => known.get(model) ?? null, refresh, stop: () => clearInterval(timer) };
}
