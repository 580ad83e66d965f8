import { describe, expect, it } from 'vitest';
import { EventQueue, SlowSubscriberError, transformStream } from './event-stream';

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

  it('hands out buffered values one per event-loop turn, so a backlog does not starve I/O', async () => {
    const queue = new EventQueue<number>(() => undefined);
    [1, 2, 3].forEach((n) => queue.push(n));
    const order: string[] = [];
    const reading = (async () => {
      for (let i = 0; i < 3; i += 1) order.push(`value ${(await queue.next()).value}`);
    })();
    setImmediate(() => order.push('turn'));
    await reading;
    expect(order.indexOf('turn')).toBeGreaterThan(0);
    expect(order.indexOf('turn')).toBeLessThan(3);
  });

  it('a buffered read that is still on its way ends once the reader returned', async () => {
    const queue = new EventQueue<number>(() => undefined);
    queue.push(1);
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
