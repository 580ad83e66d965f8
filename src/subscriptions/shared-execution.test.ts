import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { EventQueue } from './event-stream';
import { sharedSubscribe } from './shared-execution';

interface Tick {
  readonly n: number;
}

/** A schema with one viewer-independent field (`tick`) and one that reads the context (`greeting`). */
function world() {
  const sources: EventQueue<Tick>[] = [];
  let closed = 0;
  let resolved = 0;
  const stream = () => {
    const queue = new EventQueue<Tick>(() => (closed += 1));
    sources.push(queue);
    return queue;
  };
  const Tick = new GraphQLObjectType({
    name: 'Tick',
    fields: {
      n: { type: GraphQLInt },
      times: { type: GraphQLInt, args: { by: { type: GraphQLInt } }, resolve: (t: Tick, { by }: { by: number }) => t.n * by },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        tick: {
          type: Tick,
          subscribe: stream,
          resolve: (t: Tick) => {
            resolved += 1;
            return t;
          },
        },
        greeting: { type: GraphQLString, subscribe: stream, resolve: (t: Tick, _: unknown, ctx: { name: string }) => `${ctx.name} ${t.n}` },
        refused: {
          type: GraphQLString,
          subscribe: () => {
            throw new Error('no');
          },
        },
      },
    }),
  });
  const subscribe = sharedSubscribe({ viewerIndependentFields: new Set(['tick', 'greeting', 'refused']) });
  return {
    schema,
    sources,
    subscribe,
    publish: (tick: Tick) => sources.forEach((s) => s.push(tick)),
    closed: () => closed,
    resolved: () => resolved,
  };
}

type Stream = AsyncIterableIterator<ExecutionResult>;
const TICK = parse('subscription ($by: Int) { tick { n times(by: $by) } }');

describe('sharedSubscribe', () => {
  it('runs the selection once per event for subscribers that asked the same, whoever they are', async () => {
    const w = world();
    const [a, b] = (await Promise.all(
      ['ann', 'bob'].map((name) => w.subscribe({ schema: w.schema, document: TICK, variableValues: { by: 2 }, contextValue: { name } })),
    )) as Stream[];
    w.publish({ n: 1 });
    w.publish({ n: 2 });
    const [a1, b1, a2, b2] = [await a!.next(), await b!.next(), await a!.next(), await b!.next()];
    expect(a1.value).toEqual({ data: { tick: { n: 1, times: 2 } } });
    expect(b1.value).toBe(a1.value);
    expect(b2.value).toBe(a2.value);
    expect(a2.value).toEqual({ data: { tick: { n: 2, times: 4 } } });
    expect(w.resolved()).toBe(2);
  });

  it('keeps results apart when the variables or the document differ', async () => {
    const w = world();
    const by2 = (await w.subscribe({ schema: w.schema, document: TICK, variableValues: { by: 2 }, contextValue: {} })) as Stream;
    const by3 = (await w.subscribe({ schema: w.schema, document: TICK, variableValues: { by: 3 }, contextValue: {} })) as Stream;
    const other = (await w.subscribe({ schema: w.schema, document: parse('subscription { tick { n } }'), contextValue: {} })) as Stream;
    w.publish({ n: 5 });
    expect((await by2.next()).value).toEqual({ data: { tick: { n: 5, times: 10 } } });
    expect((await by3.next()).value).toEqual({ data: { tick: { n: 5, times: 15 } } });
    expect((await other.next()).value).toEqual({ data: { tick: { n: 5 } } });
  });

  it('executes per subscriber for a field not declared viewer-independent', async () => {
    const w = world();
    const perViewer = sharedSubscribe({ viewerIndependentFields: new Set() });
    const document = parse('subscription { greeting }');
    const [a, b] = (await Promise.all(['ann', 'bob'].map((name) => perViewer({ schema: w.schema, document, contextValue: { name } })))) as Stream[];
    w.publish({ n: 7 });
    expect((await a!.next()).value).toEqual({ data: { greeting: 'ann 7' } });
    expect((await b!.next()).value).toEqual({ data: { greeting: 'bob 7' } });
  });

  it('answers a refused subscription with its errors, as graphql does', async () => {
    const w = world();
    const result = (await w.subscribe({ schema: w.schema, document: parse('subscription { refused }'), contextValue: {} })) as ExecutionResult;
    expect(result.errors?.[0]?.message).toBe('no');
  });

  it('closing the stream closes its source, even while a read waits', async () => {
    const w = world();
    const stream = (await w.subscribe({ schema: w.schema, document: TICK, variableValues: { by: 1 }, contextValue: {} })) as Stream;
    const pending = stream.next();
    await stream.return?.();
    expect(w.closed()).toBe(1);
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('a failing source ends the stream with one result carrying its error (the client sees its code), then done', async () => {
    const w = world();
    const stream = (await w.subscribe({ schema: w.schema, document: TICK, variableValues: { by: 1 }, contextValue: {} })) as Stream;
    const interrupted = new AppError('UNAVAILABLE', 'live events are interrupted; subscribe again', { retriable: true });
    w.sources[0]!.fail(interrupted);
    const last = await stream.next();
    expect(last.done).toBe(false);
    expect(last.value?.errors?.[0]?.message).toBe('live events are interrupted; subscribe again');
    expect(last.value?.errors?.[0]?.originalError).toBe(interrupted);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
