import { stringifyMessage, MessageType } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { sharedPayloads } from './shared-payloads';

/** What graphql-ws sends for a next message, serialised its way with the shared replacer, then filled. */
const send = (payloads: ReturnType<typeof sharedPayloads>, id: string, payload: Record<string, unknown>) =>
  payloads.fill(stringifyMessage({ id, type: MessageType.Next, payload }, payloads.replacer));

describe('sharedPayloads', () => {
  it('sends exactly what graphql-ws would, serialising a payload object once for every socket', () => {
    const payloads = sharedPayloads();
    let serialised = 0;
    const snapshot = { scope: 'global', ordersPlaced: 3, note: 'quotes " and \\ and \u0000' };
    // Read each time the payload is serialised.
    const shared = {
      data: {
        get analyticsUpdated() {
          serialised += 1;
          return snapshot;
        },
      },
    };
    for (const id of ['a', 'b', '3f1c']) {
      expect(JSON.parse(send(payloads, id, shared))).toEqual({ id, type: 'next', payload: { data: { analyticsUpdated: snapshot } } });
    }
    expect(serialised).toBe(1);
  });

  it('gets a payload right when the client chose an id that looks like the placeholder', () => {
    const payloads = sharedPayloads();
    const payload = { data: { n: 1 } };
    const id = '\u0000payload\u0000';
    expect(JSON.parse(send(payloads, id, payload))).toEqual({ id, type: 'next', payload });
  });

  it('leaves other messages alone, also after a next message that was never sent', () => {
    const payloads = sharedPayloads();
    stringifyMessage({ id: 'x', type: MessageType.Next, payload: { data: { n: 1 } } }, payloads.replacer);
    const complete = stringifyMessage({ id: 'x', type: MessageType.Complete }, payloads.replacer);
    expect(payloads.fill(complete)).toBe(JSON.stringify({ id: 'x', type: 'complete' }));
    const error = stringifyMessage({ id: 'y', type: MessageType.Error, payload: [{ message: 'no' }] }, payloads.replacer);
    expect(payloads.fill(error)).toBe(JSON.stringify({ id: 'y', type: 'error', payload: [{ message: 'no' }] }));
  });

  it('serialises distinct payload objects each on their own', () => {
    const payloads = sharedPayloads();
    expect(JSON.parse(send(payloads, 'a', { data: { n: 1 } })).payload).toEqual({ data: { n: 1 } });
    expect(JSON.parse(send(payloads, 'a', { data: { n: 2 } })).payload).toEqual({ data: { n: 2 } });
  });
});
