import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { UnauthenticatedError } from './auth.errors';
import { ROLES, type Identity, type Role, type Viewer } from './viewer';

/** The only algorithm accepted: a token naming any other (`none`, HS512, RS256…) is refused. */
export const TOKEN_ALGORITHM = 'HS256';

/** The defaults of JWT_ISSUER and JWT_AUDIENCE (src/config.ts), which tokens signed here carry unless told otherwise. */
export const DEFAULT_ISSUER = 'food-ordering';
export const DEFAULT_AUDIENCE = 'food-ordering-api';

/** What a token must satisfy besides its HS256 signature with `secret` (JWT_* settings). */
export interface TokenPolicy {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** Longest `exp - iat` accepted: a token minted to live longer is refused even while valid. */
  readonly maxLifetimeSeconds: number;
  /** Tolerance for clocks disagreeing on `exp`, `nbf` and `iat`. */
  readonly clockSkewSeconds: number;
}

/** The policy of the configuration's defaults with this secret (tests, tools). */
export function defaultTokenPolicy(secret: string): TokenPolicy {
  return { secret, issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE, maxLifetimeSeconds: 86_400, clockSkewSeconds: 30 };
}

const claimsSchema = z
  .object({
    // No control characters: a NUL in `sub` reached store queries (PostgreSQL under FerretDB refuses it) as an internal error.
    sub: z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/),
    role: z.enum(ROLES),
    restaurantId: z.string().min(1).max(200).optional(),
    email: z.email().max(320).optional(),
    exp: z.number().int(),
    iat: z.number().int(),
  })
  .refine((c) => c.role !== 'RESTAURANT' || c.restaurantId !== undefined, { message: 'a RESTAURANT token needs restaurantId' });

const encodeSecret = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** How many verified tokens each policy remembers; the oldest is forgotten first. */
const VERIFIED_LIMIT = 10_000;
const verified = new Map<string, Map<string, Viewer>>();
const policyKey = (p: TokenPolicy) => [p.secret, p.issuer, p.audience, p.maxLifetimeSeconds, p.clockSkewSeconds].join('\u0000');

/**
 * Verifies an HS256 access token and returns its caller. Throws UnauthenticatedError saying
 * why (expired, bad signature or algorithm, missing claims) and never echoing the token.
 *
 * An app sends the same token with every request until it expires, and verifying one costs
 * about 0.3 ms of CPU here (jose goes through WebCrypto): a token that verified once is known
 * by its exact text (signature included) until its expiry, which is still checked every time.
 */
export async function verifyAccessToken(token: string, policy: TokenPolicy, now: Date = new Date()): Promise<Viewer> {
  const key = policyKey(policy);
  let known = verified.get(key);
  if (!known) verified.set(key, (known = new Map()));
  const hit = known.get(token);
  if (hit && hit.expiresAt > now.getTime() / 1000) return hit;
  known.delete(token);
  const viewer = await verifyAnew(token, policy, now);
  if (known.size >= VERIFIED_LIMIT) known.delete(known.keys().next().value!);
  known.set(token, viewer);
  return viewer;
}

/**
 * jose refuses `alg: none`, any algorithm but HS256 (RS256 with our secret as its "public key"
 * included: the key is symmetric, so an asymmetric algorithm never matches it), a wrong `iss`
 * or `aud`, and `iat` in the future or older than the lifetime, each within the skew.
 */
async function verifyAnew(token: string, policy: TokenPolicy, now: Date): Promise<Viewer> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, encodeSecret(policy.secret), {
      algorithms: [TOKEN_ALGORITHM],
      issuer: policy.issuer,
      audience: policy.audience,
      requiredClaims: ['exp', 'sub', 'iat'],
      clockTolerance: policy.clockSkewSeconds,
      maxTokenAge: policy.maxLifetimeSeconds,
      currentDate: now,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('the access token has expired', error);
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw new UnauthenticatedError(`the access token is missing a valid "${error.claim}" claim`, error);
    }
    throw new UnauthenticatedError('the access token is not valid', error);
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    const problem = claims.error.issues.map((i) => (i.path.length > 0 ? `"${i.path.join('.')}" claim` : i.message)).join(', ');
    throw new UnauthenticatedError(`the access token has invalid claims: ${problem}`);
  }
  const c = claims.data;
  if (c.exp - c.iat > policy.maxLifetimeSeconds) {
    throw new UnauthenticatedError(`the access token lives ${c.exp - c.iat} s; at most ${policy.maxLifetimeSeconds} s are accepted`);
  }
  return {
    id: c.sub,
    role: c.role,
    restaurantId: c.role === 'RESTAURANT' ? (c.restaurantId ?? null) : null,
    email: c.email ?? null,
    expiresAt: c.exp,
  };
}

export interface TokenClaims {
  readonly sub: string;
  readonly role: Role;
  readonly restaurantId?: string;
  readonly email?: string;
}

/** Signs an HS256 access token: for development tokens and tests (production tokens come from an identity provider). */
export async function signAccessToken(
  claims: TokenClaims,
  secret: string,
  options: { readonly expiresInSeconds?: number; readonly now?: Date; readonly issuer?: string; readonly audience?: string } = {},
): Promise<string> {
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ role: claims.role, restaurantId: claims.restaurantId, email: claims.email })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
    .setIssuer(options.issuer ?? DEFAULT_ISSUER)
    .setAudience(options.audience ?? DEFAULT_AUDIENCE)
    .setSubject(claims.sub)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.expiresInSeconds ?? 3600))
    .sign(encodeSecret(secret));
}

/** The token of an `Authorization: Bearer <token>` value; undefined when absent or not a bearer value. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  return match?.[1];
}

/** Turns an Authorization value into an Identity; problems are kept for the resolver to report. */
export async function identify(authorization: unknown, policy: TokenPolicy, now: Date = new Date()): Promise<Identity> {
  if (authorization === undefined || authorization === null || authorization === '') {
    return { viewer: null, problem: 'sign in: send "Authorization: Bearer <token>"' };
  }
  const token = bearerToken(authorization);
  if (!token) return { viewer: null, problem: 'the Authorization value must be "Bearer <token>"' };
  try {
    return { viewer: await verifyAccessToken(token, policy, now) };
  } catch (error) {
    if (error instanceof UnauthenticatedError) return { viewer: null, problem: error.message };
    throw error;
  }
}
