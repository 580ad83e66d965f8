import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchConsumer, type WatchedConsumer } from './consumer-watch';

/** A stand-in for kafkajs' instrumentation: the same event names, emitted by hand. */
function fakeConsumer() {
  const emitter = new EventEmitter();
  const events = { GROUP_JOIN: 'join', FETCH_START: 'fetch', END_BATCH_PROCESS: 'end', CRASH: 'crash', STOP: 'stop' };
  const consumer = {
    events,
    on: (event: string, listener: () => void) => {
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
  } as unknown as WatchedConsumer;
  return { consumer, emit: (event: keyof typeof events) => emitter.emit(events[event]) , emitter };
}

describe('watchConsumer', () => {
  it('is not ready until the consumer joins its group', () => {
    const { consumer, emit } = fakeConsumer();
    const watch = watchConsumer(consumer, { stallAfterMs: 1000 });
    expect(watch.problem()).toBe('not joined to its group yet');
    emit('GROUP_JOIN');
    expect(watch.problem()).toBeNull();
  });

  it('a crash makes it not ready until the consumer joins again', () => {
    const { consumer, emit } = fakeConsumer();
    const watch = watchConsumer(consumer, { stallAfterMs: 1000 });
    emit('GROUP_JOIN');
    emit('CRASH');
    expect(watch.problem()).toBe('crashed; rejoining');
    emit('GROUP_JOIN');
    expect(watch.problem()).toBeNull();
  });

  it('a stopped consumer is not ready', () => {
    const { consumer, emit } = fakeConsumer();
    const watch = watchConsumer(consumer, { stallAfterMs: 1000 });
    emit('GROUP_JOIN');
    emit('STOP');
    expect(watch.problem()).toBe('stopped');
  });

  it('no fetch and no finished batch for longer than stallAfterMs is a stall; either one ends it', () => {
    let clock = 0;
    const { consumer, emit } = fakeConsumer();
    const watch = watchConsumer(consumer, { stallAfterMs: 1000, now: () => clock });
    emit('GROUP_JOIN');
    clock = 1000;
    expect(watch.problem()).toBeNull();
    clock = 2500;
    expect(watch.problem()).toBe('stalled: no fetch or finished batch for 3 s');
    emit('FETCH_START');
    expect(watch.problem()).toBeNull();
    clock = 4000;
    emit('END_BATCH_PROCESS');
    expect(watch.problem()).toBeNull();
  });

  it('close() stops listening', () => {
    const { consumer, emitter } = fakeConsumer();
    watchConsumer(consumer, { stallAfterMs: 1000 }).close();
    expect(emitter.eventNames()).toEqual([]);
  });
});
