/**
 * The address a per-address limit counts, from the connection's own address and the
 * `X-Forwarded-For` header. Each trusted proxy appends the address it received the request
 * from, so with `trustedHops` proxies in front the client is the entry that many places from
 * the right; anything further left was written by the client itself and is ignored. With no
 * trusted hops the header is ignored entirely (a client could name any address in it).
 */
export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string {
  const own = normalise(remoteAddress ?? 'unknown');
  if (trustedHops === 0 || forwardedFor === undefined) return own;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // Fewer entries than trusted hops: the leftmost one came from a trusted proxy all the same.
  const chosen = entries[Math.max(0, entries.length - trustedHops)];
  return chosen === undefined ? own : normalise(chosen);
}

/** An IPv4 address as IPv6-mapped (`::ffff:10.0.0.1`) counts as itself. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
