import type { Logger } from '../logger';
import { microBatch } from '../micro-batch';
import { insertEach } from '../mongo/bulk';
import type { IdempotencyDocument, IdempotencyModel } from '../mongo/models/idempotency.model';

/** The API's writes of idempotency keys, shared by concurrent requests. */
export interface KeyClaims {
  /** Inserts the claim; false when the key was claimed already. Concurrent claims share one insert. */
  claim(doc: IdempotencyDocument): Promise<boolean>;
  /** Marks the key's order acknowledged by Kafka, in the background (batched); a lost mark only makes a repeat re-produce the same event. */
  markPublished(orderId: string): void;
}

export function createKeyClaims(idempotency: IdempotencyModel, log: Logger): KeyClaims {
  const claim = microBatch((docs: IdempotencyDocument[]) => insertEach(idempotency.collection, docs));
  const mark = microBatch(async (orderIds: string[]) => {
    await idempotency.updateMany({ _id: { $in: orderIds }, state: 'pending' }, { $set: { state: 'published' } });
    return orderIds.map(() => undefined);
  });
  return {
    claim,
    markPublished(orderId) {
      mark(orderId).catch((error: unknown) => log.warn({ err: error, orderId }, 'could not mark an idempotency claim published'));
    },
  };
}
