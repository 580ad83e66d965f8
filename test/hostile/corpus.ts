/**
 * The hostile corpus's data: cases read from test/hostile/cases/*.json, the generators that
 * expand huge or repetitive inputs in them, and the access tokens built from a case's claims
 * description (no signed token is stored). test/integration/hostile-corpus.test.ts runs them.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER } from '../../src/auth/access-token';

/** A claims description: what the test signs (or forges) for a case. */
export interface TokenSpec {
  readonly sub?: string;
  readonly role?: string;
  readonly restaurantId?: string;
  readonly email?: string;
  /** `HS256` (default), `HS512`, `none`, `RS256` (header RS256, HMAC-signed with our HS secret: key confusion), `RS256-keypair` (a real RSA signature). */
  readonly alg?: 'HS256' | 'HS512' | 'none' | 'RS256' | 'RS256-keypair';
  /** `wrong`: signed with another 32+ byte secret. */
  readonly secret?: 'right' | 'wrong';
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds from `iat` to `exp` (default 3600); negative with issuedSecondsAgo for an expired token. */
  readonly lifetimeSeconds?: number;
  readonly issuedSecondsAgo?: number;
  /** Claims left out. */
  readonly omit?: readonly string[];
  /** `signature`: last signature character changed; `payload`: role raised to ADMIN after signing. */
  readonly tamper?: 'signature' | 'payload';
}

/** Named callers: a customer and a restaurant who are not the seeded orders' owners, and an admin. */
export const PRINCIPALS: Record<string, TokenSpec> = {
  customer: { sub: 'hostile-customer', role: 'CUSTOMER' },
  restaurant: { sub: 'hostile-restaurant', role: 'RESTAURANT', restaurantId: 'sushi-sakura' },
  admin: { sub: 'hostile-admin', role: 'ADMIN' },
};

export interface Expectation {
  /** HTTP status (HTTP cases). */
  readonly status?: number;
  /** extensions.code of the first error; `null`: no error at all. */
  readonly code?: string | null;
  /** Every error of the answer carries this code, and there are at most `maxErrors`. */
  readonly maxErrors?: number;
  /** Matched (toMatchObject) against `data`. */
  readonly data?: unknown;
  /** HTTP: a Retry-After header; WebSocket: extensions.retryAfterSeconds. */
  readonly retryAfter?: boolean;
  /** WebSocket close code. */
  readonly close?: number;
}

export interface HostileCase {
  readonly name: string;
  readonly class: string;
  readonly kind: 'http' | 'ws';
  /** Which API instance: `main` (generous limits), `strict` (tight rate limits and caps), `slow` (a tiny slow-reader buffer). */
  readonly instance?: 'main' | 'strict' | 'slow';
  /** A principal's name or a claims description; absent: no Authorization at all. */
  readonly token?: string | TokenSpec;
  /** A raw Authorization value instead of a token. */
  readonly authorization?: unknown;
  // HTTP
  readonly method?: string;
  readonly path?: string;
  /** `null`: no content-type header. */
  readonly contentType?: string | null;
  readonly headers?: Record<string, unknown>;
  /** A raw body (string or generator). */
  readonly body?: unknown;
  /** A body sent as JSON.stringify of this (after expansion). */
  readonly json?: unknown;
  /** Sent this many times; the last answer is asserted. */
  readonly repeat?: number;
  // WebSocket
  readonly protocol?: string | null;
  /** `false`: no connection_init; else extra fields of its payload. */
  readonly init?: false | Record<string, unknown>;
  /** Frames after the acknowledgement: objects are JSON-encoded, strings sent as they are. */
  readonly frames?: readonly unknown[];
  /** Sockets opened at once with the same token (all held open); the last one is asserted. */
  readonly sockets?: number;
  /** Stop reading before sending the frames; read again after `pauseMs`. */
  readonly pauseMs?: number;
  readonly expect: Expectation;
}

const CASES_DIR = path.join(__dirname, 'cases');

/** Every case of every file; a file names its class and holds `cases`. */
export function loadCorpus(): HostileCase[] {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const { class: cls, instance, cases } = JSON.parse(readFileSync(path.join(CASES_DIR, file), 'utf8')) as { class: string; instance?: HostileCase['instance']; cases: Omit<HostileCase, 'class'>[] };
      return cases.map((c) => ({ instance, ...c, class: (c as { class?: string }).class ?? cls }) as HostileCase);
    });
}

/**
 * Expands generators anywhere in a case's request and substitutes `$NAME` placeholders:
 * `{"$gen":"repeat","text":"r{i}: me { id } ","times":16,"prefix":"{ ","suffix":"}"}` → a string;
 * `{"$gen":"nest","fields":["a","b"],"times":20,"leaf":"name"}` → `a { b { a { … name } } }`;
 * `{"$gen":"list","item":…,"times":5}` → an array (spliced into an enclosing array).
 */
export function expand(value: unknown, vars: Record<string, string>, i = 0): unknown {
  if (typeof value === 'string') return value.replace(/\$([A-Z_]+)/g, (m, name: string) => vars[name] ?? m).replaceAll('{i}', String(i));
  if (Array.isArray(value)) return value.flatMap((v) => (isGen(v, 'list') ? (expand(v, vars, i) as unknown[]) : [expand(v, vars, i)]));
  if (value === null || typeof value !== 'object') return value;
  const gen = (value as { $gen?: string }).$gen;
  if (gen === 'repeat') {
    const g = value as { text: string; times: number; prefix?: string; suffix?: string; join?: string };
    const parts = Array.from({ length: g.times }, (_, k) => expand(g.text, vars, k) as string);
    return `${g.prefix ?? ''}${parts.join(g.join ?? '')}${g.suffix ?? ''}`;
  }
  if (gen === 'nest') {
    const g = value as { fields: string[]; times: number; leaf: string; prefix?: string; suffix?: string };
    const chain = Array.from({ length: g.times }, () => g.fields).flat();
    return `${g.prefix ?? ''}${chain.reduceRight((inner, field) => `${field} { ${inner} }`, g.leaf)}${g.suffix ?? ''}`;
  }
  if (gen === 'list') {
    const g = value as { item: unknown; times: number };
    return Array.from({ length: g.times }, (_, k) => expand(g.item, vars, k));
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v, vars, i)]));
}

const isGen = (v: unknown, gen: string) => typeof v === 'object' && v !== null && (v as { $gen?: string }).$gen === gen;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const WRONG_SECRET = 'not-the-api-secret-but-long-enough-0123456789';

/** Builds the token a claims description (or a principal's name) says, signing with `secret` unless told otherwise. */
export async function buildToken(spec: string | TokenSpec, secret: string): Promise<string> {
  const s = typeof spec === 'string' ? PRINCIPALS[spec] : spec;
  if (!s) throw new Error(`no principal named ${String(spec)}`);
  const iat = Math.floor(Date.now() / 1000) - (s.issuedSecondsAgo ?? 0);
  const all: Record<string, unknown> = {
    sub: s.sub ?? 'hostile-customer',
    role: s.role ?? 'CUSTOMER',
    restaurantId: s.restaurantId,
    email: s.email,
    iss: s.iss ?? DEFAULT_ISSUER,
    aud: s.aud ?? DEFAULT_AUDIENCE,
    iat,
    exp: iat + (s.lifetimeSeconds ?? 3600),
  };
  const claims = Object.fromEntries(Object.entries(all).filter(([k, v]) => v !== undefined && !s.omit?.includes(k)));
  const key = new TextEncoder().encode(s.secret === 'wrong' ? WRONG_SECRET : secret);
  const alg = s.alg ?? 'HS256';
  let token: string;
  if (alg === 'none') token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  else if (alg === 'RS256') {
    const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
    token = `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  } else if (alg === 'RS256-keypair') {
    const { privateKey } = await generateKeyPair('RS256');
    token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
  } else token = await new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
  // A middle character: the last one of an HS256 signature carries 2 padding bits a decoder may ignore.
  if (s.tamper === 'signature') {
    const at = token.length - 10;
    token = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
  }
  if (s.tamper === 'payload') {
    const [header, , signature] = token.split('.');
    token = `${header}.${b64({ ...claims, role: 'ADMIN' })}.${signature}`;
  }
  return token;
}
