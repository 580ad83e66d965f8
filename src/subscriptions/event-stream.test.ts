import { describe, expect, it } from 'vitest';
import { EventQueue, LoopTurns, SlowSubscriberError, transformStream } from './event-stream';

describe('EventQueue', () => {
  it('buffers from creation, before anyone reads', async () => {
    const queue = new EventQueue<number>(() => undefined);
    queue.push(1);
    queue.push(2);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
  });

  it('hands a value to a waiting reader', async () => {
    const queue = new EventQueue<string>(() => undefined);
    const pending = queue.next();
    queue.push('x');
    expect(await pending).toEqual({ value: 'x', done: false });
  });

  it('return() ends a pending read and tells its owner once', async () => {
    let closed = 0;
    const queue = new EventQueue<number>(() => closed++);
    const pending = queue.next();
    await queue.return();
    await queue.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
    queue.push(3);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('hands out buffered values at once while the turn has budget, then lets the event loop have a turn', async () => {
    let clock = 0;
    const queue = new EventQueue<number>(() => undefined, 1000, new LoopTurns(10, () => clock));
    [1, 2, 3, 4].forEach((n) => queue.push(n));
    const order: string[] = [];
    const reading = (async () => {
      for (let i = 0; i < 4; i += 1) {
        order.push(`value ${(await queue.next()).value}`);
        clock += 6; // each delivery takes 6 ms
      }
    })();
    setImmediate(() => order.push('turn'));
    await reading;
    // 1 starts the budget, 2 is within it, 3 is past it: the loop turns before 3.
    expect(order).toEqual(['value 1', 'value 2', 'turn', 'value 3', 'value 4']);
  });

  it('many readers past the budget wait for the same next turn', async () => {
    let clock = 0;
    const turns = new LoopTurns(10, () => clock);
    expect(turns.pass()).toBeNull();
    clock = 11;
    const gate = turns.pass();
    expect(gate).not.toBeNull();
    expect(turns.pass()).toBe(gate);
    await gate;
    expect(turns.pass()).toBeNull();
  });

  it('a buffered read that is still on its way ends once the reader returned', async () => {
    let clock = 0;
    const queue = new EventQueue<number>(() => undefined, 1000, new LoopTurns(0, () => clock++));
    queue.push(1);
    queue.push(2);
    await queue.next();
    const pending = queue.next();
    await queue.return();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('fails a reader that falls too far behind', async () => {
    const queue = new EventQueue<number>(() => undefined, 2);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    await expect(queue.next()).rejects.toBeInstanceOf(SlowSubscriberError);
  });
});

describe('transformStream', () => {
  it('sends the first values, then maps and filters the source', async () => {
    const source = new EventQueue<number>(() => undefined);
    const stream = transformStream(source, (n) => (n % 2 === 0 ? `even ${n}` : undefined), ['start']);
    [1, 2, 3, 4].forEach((n) => source.push(n));
    const seen: string[] = [];
    for await (const value of stream) {
      seen.push(value);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['start', 'even 2', 'even 4']);
  });

  it('closes the source even while a read is pending', async () => {
    let closed = false;
    const source = new EventQueue<number>(() => (closed = true));
    const stream = transformStream(source, (n) => n);
    const pending = stream.next();
    await stream.return();
    expect(closed).toBe(true);
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});
