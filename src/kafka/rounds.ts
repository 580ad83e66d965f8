/**
 * How the runner cuts a partition's batch into rounds. A round is a run of consecutive
 * messages in which no key (order id) appears twice, so that one order's events are decided
 * in the order they were written even though a round is loaded and persisted as a whole; and
 * because a round is contiguous, committing after it never skips a message.
 */

/** The most messages in one round: bounds the size of the bulk writes a round makes. */
export const ROUND_LIMIT = 500;

/**
 * PURE: the length of the round that starts at `start`: up to `limit` messages, ending before
 * the first message whose key already appears in it. Messages without a key never collide.
 */
export function roundLength(keys: readonly (string | null)[], start: number, limit = ROUND_LIMIT): number {
  const seen = new Set<string>();
  let end = start;
  while (end < keys.length && end - start < limit) {
    const key = keys[end];
    if (key !== null && key !== undefined) {
      if (seen.has(key)) break;
      seen.add(key);
    }
    end++;
  }
  return Math.max(1, end - start);
}

/** PURE: the rounds of a batch, as [start, end) index pairs covering it in order. */
export function roundsOf(keys: readonly (string | null)[], limit = ROUND_LIMIT): [number, number][] {
  const rounds: [number, number][] = [];
  for (let start = 0; start < keys.length; ) {
    const end = start + roundLength(keys, start, limit);
    rounds.push([start, end]);
    start = end;
  }
  return rounds;
}
