import { createSourceEventStream, execute, getOperationAST, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * graphql-js runs a subscription's selection set once per subscriber and event. When a
 * thousand subscribers asked the same thing about the same event, that is a thousand identical
 * executions. This `subscribe` (a drop-in for graphql's, as graphql-ws takes it) runs the
 * selection once per event, document, operation and variables and hands every such subscriber
 * the same result object.
 *
 * Only for root fields whose result depends on the event and the arguments alone, never on the
 * context (the viewer): who may receive an event is decided before, by the subscriber index,
 * so nothing per-viewer is left to compute. Other fields execute per subscriber, as graphql does.
 */
export interface SharedSubscribeOptions {
  /** Subscription root fields whose results may be shared between subscribers. */
  readonly viewerIndependentFields: ReadonlySet<string>;
}

type MaybePromise<T> = T | Promise<T>;

/** The root field an operation subscribes to, or null for anything else (several, fragments, none). */
function rootFieldOf(document: DocumentNode, operationName: string | null | undefined): string | null {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription' || operation.selectionSet.selections.length !== 1) return null;
  const [selection] = operation.selectionSet.selections;
  return selection?.kind === 'Field' ? selection.name.value : null;
}

/**
 * An async iterator whose values are `map`ped; closing it closes the source. A source that
 * fails (live events interrupted, a subscriber too far behind: an AppError) ends the stream
 * with one last result carrying that error, which the client receives as a GraphQL error with
 * its code (UNAVAILABLE: subscribe again); graphql-ws would otherwise close the whole socket.
 */
function mapStream<T>(source: AsyncIterator<T>, map: (value: T) => MaybePromise<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const close = async () => {
    if (typeof source.return === 'function') await source.return();
  };
  let failed = false;
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (failed) return { value: undefined, done: true };
      let result: IteratorResult<T>;
      try {
        result = await source.next();
      } catch (error) {
        failed = true;
        const message = error instanceof Error ? error.message : String(error);
        return { value: { errors: [new GraphQLError(message, { originalError: error instanceof Error ? error : undefined })] }, done: false };
      }
      if (result.done) return { value: undefined, done: true };
      try {
        const value = map(result.value);
        // A shared result is usually already computed: no extra tick for it.
        return { value: value instanceof Promise ? await value : value, done: false };
      } catch (error) {
        await close().catch(() => undefined);
        throw error;
      }
    },
    async return() {
      await close();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}

export function sharedSubscribe(options: SharedSubscribeOptions): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  /** event → (what was asked → its result); an event's entry goes once nobody holds the event. */
  const results = new WeakMap<object, Map<string, MaybePromise<ExecutionResult>>>();
  /** A number per document object: documents are shared by the server's parse cache. */
  const documentIds = new WeakMap<DocumentNode, number>();
  let lastDocumentId = 0;

  /** What decides a shared result besides the event, or null when this operation must not share. */
  const shareKeyOf = (args: ExecutionArgs): string | null => {
    const field = rootFieldOf(args.document, args.operationName);
    if (field === null || !options.viewerIndependentFields.has(field)) return null;
    if (args.fieldResolver || args.typeResolver || args.subscribeFieldResolver) return null;
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = ++lastDocumentId));
    return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  };

  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream;
    const source = stream[Symbol.asyncIterator]();
    const run = (event: unknown): MaybePromise<ExecutionResult> => execute({ ...args, rootValue: event });
    const key = shareKeyOf(args);
    if (key === null) return mapStream(source, run);
    return mapStream(source, (event) => {
      if (typeof event !== 'object' || event === null) return run(event);
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (result === undefined) byKey.set(key, (result = run(event)));
      return result;
    });
  };
}
