import type { DeleteOptions } from 'mongodb';
import type { Connection } from 'mongoose';
import type { Logger } from '../logger';
import { deadlineOptions } from '../mongo/operation-deadline';
import type { RestartRecord } from './failure-policy';

/**
 * How many times in a row a consumer group stopped at one message of a partition: the one
 * thing a consumer must remember across its own restart (failure-policy.ts, restartVerdict).
 *
 * Kept in MongoDB, a document per group/topic/partition (`consumer_restarts`), because the
 * process that counts is the one that exits: memory does not survive it, a Kafka topic would
 * need a compacted read at every start, and MongoDB is already every consumer's store. One
 * document per partition (not per offset) makes "in a row" exact: a stop at another offset
 * replaces the record, and a commit past the recorded offset deletes it. Reads and writes
 * happen only on a stop and on the first commit past a recorded stop, never per round.
 */
interface RestartDocument {
  _id: string;
  groupId: string;
  topic: string;
  partition: number;
  offset: string;
  restarts: number;
  reason: string;
  updatedAt: Date;
}

export interface RestartLedger {
  /** The record of the partition's last stops, if any. */
  read(topic: string, partition: number): Promise<RestartRecord | null>;
  /** Records a stop at `record.offset` (the count `restartVerdict` gave). */
  record(topic: string, partition: number, record: RestartRecord, reason: string): Promise<void>;
  /** The partition got past `offset` (committed or parked it): forgets a stop recorded at or before it. */
  passed(topic: string, partition: number, offset: string): Promise<void>;
}

export const RESTARTS_COLLECTION = 'consumer_restarts';

export async function openRestartLedger(connection: Connection, groupId: string, log: Logger): Promise<RestartLedger> {
  const collection = connection.collection<RestartDocument>(RESTARTS_COLLECTION);
  // Driver calls on the collection, so no query middleware: each carries the store deadline
  // itself (the driver reads `signal` from any operation's options; not every option type names it).
  const bounded = () => deadlineOptions(collection) as { signal?: AbortSignal } & DeleteOptions;
  const idOf = (topic: string, partition: number) => `${groupId}|${topic}|${partition}`;
  // Partitions with a stop on record: a commit checks this map, and touches MongoDB only when it
  // passes one. Records another instance makes later are replaced by offset anyway.
  const known = new Map<string, bigint>();
  for (const doc of await collection.find({ groupId }, bounded()).toArray()) known.set(doc._id, BigInt(doc.offset));

  return {
    async read(topic, partition) {
      const doc = await collection.findOne({ _id: idOf(topic, partition) }, bounded());
      return doc ? { offset: doc.offset, restarts: doc.restarts } : null;
    },
    async record(topic, partition, { offset, restarts }, reason) {
      const _id = idOf(topic, partition);
      const fields = { groupId, topic, partition, offset, restarts, reason: reason.slice(0, 2000), updatedAt: new Date() };
      await collection.replaceOne({ _id }, fields, { upsert: true, ...bounded() });
      known.set(_id, BigInt(offset));
    },
    async passed(topic, partition, offset) {
      const _id = idOf(topic, partition);
      const recorded = known.get(_id);
      if (recorded === undefined || recorded > BigInt(offset)) return;
      known.delete(_id);
      await collection.deleteOne({ _id, offset: recorded.toString() }, bounded()).catch((error: unknown) => {
        // Harmless: a stale record is replaced by the next stop at another offset.
        log.warn({ err: error, topic, partition }, 'could not clear the restart record');
      });
    },
  };
}
