import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler, Response } from 'express';
import type { Identity } from '../auth/viewer';
import { RateLimitedError, type Limiter } from '../rate-limits/rate-limits';
import { clientAddress } from './client-address';

/** Where the anonymous limit leaves the request's identity for the GraphQL context (verified once). */
export const IDENTITY_LOCAL = 'identity';

/** The identity the anonymous limit verified for this request. */
export function identityOf(res: Response): Identity | undefined {
  return res.locals[IDENTITY_LOCAL] as Identity | undefined;
}

/**
 * Counts every request without a valid token against its client address, before Apollo does
 * any work for it: past the budget it is answered 429 RATE_LIMITED with Retry-After.
 * Requests with a valid token pass (their costly operations have limits of their own).
 */
export function anonymousLimit(options: {
  readonly limiter: Limiter;
  readonly trustProxyHops: number;
  readonly identify: (authorization: unknown) => Promise<Identity>;
}): RequestHandler {
  return async (req, res, next) => {
    const identity = await options.identify(req.headers.authorization);
    res.locals[IDENTITY_LOCAL] = identity;
    if (identity.viewer !== null) return next();
    try {
      await options.limiter.consume(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], options.trustProxyHops));
      next();
    } catch (error) {
      if (!(error instanceof RateLimitedError)) return next(error);
      res.status(429).set('retry-after', String(error.retryAfterSeconds ?? 1));
      res.json({ errors: [{ message: error.message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: error.retryAfterSeconds } }] });
    }
  };
}

/**
 * An answer carrying RATE_LIMITED (placeOrder or cancelOrder over their budget) goes out as
 * HTTP 429 with Retry-After: the longest wait any of its errors names.
 */
export function rateLimitedStatusPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const waits = (response.body.singleResult.errors ?? [])
            .filter((e) => e.extensions?.code === 'RATE_LIMITED')
            .map((e) => Number(e.extensions?.retryAfterSeconds ?? 1));
          if (waits.length === 0) return;
          response.http.status = 429;
          response.http.headers.set('retry-after', String(Math.max(...waits)));
        },
      };
    },
  };
}
