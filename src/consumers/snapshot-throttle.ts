/**
 * At most one send per key per interval, trailing edge included: the first value goes out at
 * once, values offered within the interval after it are coalesced and the LATEST one goes out
 * when the interval ends. So subscribers are never flooded, and never left with a stale value.
 * Sends of one key run one after another, so they arrive in order.
 */
export interface Throttle<T> {
  offer(key: string, value: T): void;
  /** Sends what is still waiting and resolves once every send has finished (for shutdown). */
  flush(): Promise<void>;
}

interface Slot<T> {
  lastSentAt: number;
  pending: { value: T } | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  chain: Promise<void>;
}

/** `send` failures are the caller's to report: a rejected send does not stop later ones. */
export function createThrottle<T>(intervalMs: number, send: (key: string, value: T) => Promise<void>, now: () => number = Date.now): Throttle<T> {
  const slots = new Map<string, Slot<T>>();

  const fire = (slot: Slot<T>, key: string) => {
    slot.timer = undefined;
    const pending = slot.pending;
    if (!pending) return;
    slot.pending = undefined;
    slot.lastSentAt = now();
    slot.chain = slot.chain.then(() => send(key, pending.value)).catch(() => undefined);
  };

  return {
    offer(key, value) {
      const slot = slots.get(key) ?? { lastSentAt: -Infinity, pending: undefined, timer: undefined, chain: Promise.resolve() };
      slots.set(key, slot);
      slot.pending = { value };
      if (slot.timer) return; // the trailing send will take this latest value
      const wait = slot.lastSentAt + intervalMs - now();
      if (wait <= 0) fire(slot, key);
      else slot.timer = setTimeout(() => fire(slot, key), wait);
    },
    async flush() {
      for (const [key, slot] of slots) {
        if (slot.timer) clearTimeout(slot.timer);
        fire(slot, key);
      }
      await Promise.all([...slots.values()].map((slot) => slot.chain));
    },
  };
}
