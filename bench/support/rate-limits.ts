/**
 * The rate limits and WebSocket caps every benchmark runs its API with: far above what any
 * benchmark sends (one customer's token hammers placeOrder; ten thousand subscribers may share
 * a user), so they measure the work, not the limiter's refusals. The limiter itself still
 * runs on every request (in memory), as in production. Each report records config.limits.
 */
export const BENCH_RATE_LIMITS = {
  RATE_LIMIT_STORE: 'memory',
  RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: '100000000',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000000',
  RATE_LIMIT_SOCKETS_PER_MINUTE: '100000000',
  RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '100000000',
  WS_MAX_SOCKETS_PER_USER: '1000000',
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '10000',
  WS_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024),
} as const;
