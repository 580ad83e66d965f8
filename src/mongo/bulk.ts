import type { Model, mongo } from 'mongoose';

type Collection<T extends mongo.Document> = mongo.Collection<T>;
import { isDuplicateKeyError } from './mongo-errors';
import { deadlineOptions } from './operation-deadline';

/**
 * Bulk writes the consumers persist rounds with. Chunk sizes stay well under the statement
 * counts at which MongoDB-wire servers built on a connection pool stall: FerretDB v1 holds one
 * backend connection per update statement until the whole command ends, so every process's
 * concurrent update commands share its pool (200 locally). Inserts go 500 to a command;
 * updates 20 to a command, one command at a time per call.
 */
export const INSERT_CHUNK = 500;
export const UPDATE_CHUNK = 20;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface WriteErrorLike {
  readonly index: number;
  readonly code?: number;
}

/**
 * The per-document errors of a failed unordered bulk write, or null when the failure is not
 * one. The driver also throws its bulk error, with no write error at all, when the server could
 * not be reached (a network error, no server to select): then no document's fate is known, and
 * that is not "every document inserted" (drill 4: charges answered captured that the gateway's
 * books never held).
 */
function writeErrorsOf(error: unknown): WriteErrorLike[] | null {
  if (typeof error !== 'object' || error === null || !('writeErrors' in error)) return null;
  const errors = (error as { writeErrors: unknown }).writeErrors;
  const list = Array.isArray(errors) ? errors : [errors];
  if (list.length === 0) return null;
  return list.map((e) => ({ index: (e as WriteErrorLike).index, code: (e as WriteErrorLike).code ?? (e as { err?: { code?: number } }).err?.code }));
}

/** Whether the bulk write's result accounts for every document: inserted, or refused one by one. */
function everyDocumentAccounted(error: unknown, writeErrors: readonly WriteErrorLike[], documents: number): boolean {
  const inserted = (error as { result?: { insertedCount?: unknown } }).result?.insertedCount;
  return typeof inserted !== 'number' || inserted + writeErrors.length === documents;
}

/**
 * Inserts every document whose `_id` (or other unique key) is still free, in unordered bulk
 * inserts; for each document, true when this call inserted it, false when the key was taken
 * (someone wrote it first). Any other failure throws, and the caller may simply repeat the
 * call: the documents already in are then reported as taken.
 */
export async function insertEach(collection: Collection<mongo.Document>, docs: readonly object[]): Promise<boolean[]> {
  const inserted: boolean[] = [];
  for (const chunk of chunks(docs, INSERT_CHUNK)) {
    const results = chunk.map(() => true);
    try {
      await collection.insertMany(chunk as mongo.OptionalId<mongo.Document>[], { ordered: false, ...deadlineOptions(collection) });
    } catch (error) {
      const writeErrors = writeErrorsOf(error);
      if (!writeErrors || !writeErrors.every(isDuplicateKeyError) || !everyDocumentAccounted(error, writeErrors, chunk.length)) {
        if (isDuplicateKeyError(error) && chunk.length === 1) results[0] = false;
        else throw error;
      } else for (const e of writeErrors) results[e.index] = false;
    }
    inserted.push(...results);
  }
  return inserted;
}

/** How many point reads findByIds keeps in flight at once. */
const READ_CONCURRENCY = 32;

/**
 * The documents with these ids, by id. Point reads by `_id`, a bounded number at a time, not
 * one `$in` query: every MongoDB-wire server serves a point read from the `_id` index, while
 * some (FerretDB v1) answer `$in` by reading the whole collection.
 */
export async function findByIds<T extends { _id: string }>(model: Model<T>, ids: readonly string[], projection?: Record<string, 0 | 1>): Promise<Map<string, T>> {
  const unique = [...new Set(ids)];
  const found = new Map<string, T>();
  let next = 0;
  const worker = async () => {
    while (next < unique.length) {
      const id = unique[next++]!;
      const doc = await model.findById(id, projection).lean<T>();
      if (doc) found.set(id, doc);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, unique.length) }, worker));
  return found;
}

/**
 * Runs unordered bulk updates in chunks the server handles; returns how many documents the
 * operations matched in all, so a caller whose updates are conditional can tell that one missed.
 */
export async function bulkUpdate<T extends mongo.Document>(collection: Collection<mongo.Document>, operations: readonly mongo.AnyBulkWriteOperation<T>[]): Promise<number> {
  // A model's collection is untyped; the operations carry the document type.
  const typed = collection as unknown as Collection<T>;
  let matched = 0;
  for (const chunk of chunks(operations, UPDATE_CHUNK)) {
    const result = await typed.bulkWrite(chunk, { ordered: false, ...deadlineOptions(collection) });
    matched += result.matchedCount + result.upsertedCount;
  }
  return matched;
}
