/**
 * Serialises a `next` message's payload once however many sockets it goes to.
 *
 * graphql-ws turns every message into text itself (`JSON.stringify(message, replacer)`) and
 * hands the text to the socket: an event going to ten thousand subscribers would be serialised
 * ten thousand times. Given to graphql-ws as its `jsonMessageReplacer`, `replacer` swaps a next
 * message's payload for a placeholder and remembers the payload's JSON (computed once per
 * payload object, kept while the object lives: shared execution hands every subscriber of an
 * event the same result object). `fill`, applied to the text the socket is about to send, puts
 * that JSON where the placeholder is. graphql-ws serialises and sends each message in one
 * synchronous step (`socket.send(stringifyMessage(...))`), so the payload remembered is always
 * the one of the text being sent.
 */
export interface SharedPayloads {
  /** For graphql-ws's `jsonMessageReplacer`. */
  readonly replacer: (this: unknown, key: string, value: unknown) => unknown;
  /** The outgoing text with the remembered payload in its placeholder's place; any other text as it is. */
  fill(text: string): string;
}

const PLACEHOLDER = '\u0000payload\u0000';
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

export function sharedPayloads(): SharedPayloads {
  const json = new WeakMap<object, string>();
  let pending: string | null = null;
  return {
    // JSON.stringify calls a replacer with the object holding `key` as `this`.
    replacer(this: unknown, key: string, value: unknown): unknown {
      if (key !== 'payload' || typeof value !== 'object' || value === null || (this as { type?: unknown } | null)?.type !== 'next') return value;
      let text = json.get(value);
      if (text === undefined) {
        text = JSON.stringify(value);
        json.set(value, text);
      }
      pending = text;
      return PLACEHOLDER;
    },
    fill(text) {
      const payload = pending;
      if (payload === null) return text;
      pending = null;
      // The payload is the message's last member; a client-chosen id could hold the placeholder too, earlier.
      const at = text.lastIndexOf(PLACEHOLDER_JSON);
      return at < 0 ? text : text.slice(0, at) + payload + text.slice(at + PLACEHOLDER_JSON.length);
    },
  };
}
