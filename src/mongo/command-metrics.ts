import type { mongo } from 'mongoose';
import { processMetrics } from '../metrics/process-metrics';

/**
 * Feeds `mongo_command_duration_seconds` from the driver's command monitoring (the client is
 * opened with `monitorCommands: true`), labelled by command name and outcome only: the
 * command's text or filter never becomes a label. Children are bound once per command name.
 *
 * What monitoring costs: the driver then builds an event object per command and decodes each
 * reply once more for it. Writes here answer a few bytes; reads are the API's order lists.
 */
export function observeCommands(client: mongo.MongoClient): void {
  const { duration } = processMetrics().mongo;
  const bound = new Map<string, { observe(seconds: number): void }>();
  const observe = (command: string, outcome: 'ok' | 'error', ms: number) => {
    const key = `${command}\u0000${outcome}`;
    let child = bound.get(key);
    if (!child) bound.set(key, (child = duration.labels(command, outcome)));
    child.observe(ms / 1000);
  };
  client.on('commandSucceeded', (event: mongo.CommandSucceededEvent) => observe(event.commandName, 'ok', event.duration));
  client.on('commandFailed', (event: mongo.CommandFailedEvent) => observe(event.commandName, 'error', event.duration));
}
