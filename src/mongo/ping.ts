import mongoose from 'mongoose';

/**
 * Whether a MongoDB-wire server at `url` answers a ping on a connection of its own, within
 * about `timeoutMs`: for waiting on a server that starts, and for telling a server that is away
 * from a client of ours that no longer reaches it (kafka/store-watch.ts).
 */
export async function answersPing(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs });
  try {
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    return reply.ok === 1;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}
