import { microBatch } from '../micro-batch';
import { insertEach } from '../mongo/bulk';
import type { IdempotencyDocument, IdempotencyModel } from '../mongo/models/idempotency.model';

/** Inserts idempotency keys; false when the key was claimed already. Concurrent requests share one insert. */
export type KeyClaims = (doc: IdempotencyDocument) => Promise<boolean>;

export function createKeyClaims(idempotency: IdempotencyModel): KeyClaims {
  return microBatch((docs: IdempotencyDocument[]) => insertEach(idempotency.collection, docs));
}
