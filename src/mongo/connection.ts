import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { observeCommands } from './command-metrics';
import { applyOperationDeadlines } from './operation-deadline';

/**
 * One connection per process. Models are registered on it by the modules that use them
 * (see models/), and their indexes are built before the process starts work.
 */
export async function connectMongo(config: Config, log: Logger): Promise<Connection> {
  // Every operation's wait is bounded below the consumers' session timeout (config.ts checks
  // it), so a stalled server fails the attempt (retried, transient) instead of outliving the
  // group membership: the socket's silence, finding a server, connecting. (An operation queued
  // while disconnected fails after mongoose's bufferTimeoutMS, 10 s.)
  const bound = config.mongo.operationTimeoutMs;
  const connection = mongoose.createConnection(config.mongo.url, {
    serverSelectionTimeoutMS: Math.min(10_000, bound),
    socketTimeoutMS: bound,
    connectTimeoutMS: Math.min(10_000, bound),
    // FerretDB has no transactions or retryable-write support to lean on; every write here
    // is idempotent by key instead.
    retryWrites: false,
    // Each command's latency on /metrics (command-metrics.ts).
    monitorCommands: true,
  });
  // socketTimeoutMS does not bound a write stuck on a closed socket: operation-deadline.ts.
  applyOperationDeadlines(connection, bound);
  observeCommands(connection.getClient());
  connection.on('disconnected', () => log.warn('MongoDB disconnected'));
  connection.on('reconnected', () => log.info('MongoDB reconnected'));
  await connection.asPromise();
  log.info({ db: connection.name }, 'MongoDB connected');
  return connection;
}
