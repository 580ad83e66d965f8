/**
 * Benchmark parameters come from environment variables (vitest owns the command line); each
 * is checked at start, so a wrong value stops the run with one sentence, not halfway through.
 */

/** A whole number from `min` to `max` in variable `name`, or `fallback` when it is unset. */
export function whole(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
}
