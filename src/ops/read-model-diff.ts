/*
 * Compares two generations of a read model document by document: how an operator (and the
 * replay test) checks that a rebuild from the log equals the live state.
 */
import type { Connection } from 'mongoose';
import { collectionOf, READ_MODELS, type ReadModelName } from '../mongo/read-models';

export interface CollectionDiff {
  readonly live: string;
  readonly rebuilt: string;
  readonly same: number;
  readonly onlyLive: readonly string[];
  readonly onlyRebuilt: readonly string[];
  readonly different: readonly string[];
}

type Doc = Record<string, unknown>;
const byKey = (field: string) => (a: unknown, b: unknown) => String((a as Doc)[field]).localeCompare(String((b as Doc)[field]));

/**
 * What may legitimately differ between two equal states, taken out before comparing:
 * `revision` counts writes, not content; analytics keeps tallies as arrays built in the order
 * facts arrived, and partitions interleave differently on every run.
 */
function normalized(base: string, doc: Doc): Doc {
  if (base !== 'analytics') return doc;
  const { revision: _revision, ...rest } = doc;
  const sorted = (field: string, key: string) => [...((rest[field] as unknown[] | undefined) ?? [])].sort(byKey(key));
  return { ...rest, items: sorted('items', 'menuItemId'), restaurants: sorted('restaurants', 'restaurantId'), applied: sorted('applied', 'partition') };
}

/** JSON with object keys sorted: documents written by different paths keep fields in different orders. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? Object.fromEntries(Object.entries(v as Doc).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

async function documents(connection: Connection, collection: string): Promise<Map<string, string>> {
  const docs = await connection.db!.collection<Doc>(collection).find({}).toArray();
  return new Map(docs.map((d) => [String(d._id), canonical(d)]));
}

/** Every collection of `model`, generation `live` against generation `rebuilt`. */
export async function diffGenerations(connection: Connection, model: ReadModelName, live: string | null, rebuilt: string | null): Promise<CollectionDiff[]> {
  const diffs: CollectionDiff[] = [];
  for (const base of READ_MODELS[model]) {
    const [a, b] = [collectionOf(base, live), collectionOf(base, rebuilt)];
    const norm = (docs: Map<string, string>) => new Map([...docs].map(([id, text]) => [id, canonical(normalized(base, JSON.parse(text) as Doc))]));
    const [left, right] = [norm(await documents(connection, a)), norm(await documents(connection, b))];
    const ids = [...new Set([...left.keys(), ...right.keys()])].sort();
    diffs.push({
      live: a,
      rebuilt: b,
      same: ids.filter((id) => left.has(id) && left.get(id) === right.get(id)).length,
      onlyLive: ids.filter((id) => !right.has(id)),
      onlyRebuilt: ids.filter((id) => !left.has(id)),
      different: ids.filter((id) => left.has(id) && right.has(id) && left.get(id) !== right.get(id)),
    });
  }
  return diffs;
}

export const isIdentical = (diffs: readonly CollectionDiff[]): boolean => diffs.every((d) => d.onlyLive.length + d.onlyRebuilt.length + d.different.length === 0);
