import { createHmac } from 'node:crypto';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from './auth.errors';
import { configOptions } from '../config';
import { bearerToken, DEFAULT_AUDIENCE, DEFAULT_ISSUER, defaultTokenPolicy, identify, signAccessToken, verifyAccessToken } from './access-token';

const secret = 'a-test-secret-that-is-at-least-32-characters';
const key = new TextEncoder().encode(secret);
const policy = defaultTokenPolicy(secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const inAnHour = () => nowSeconds() + 3600;
/** A token as our issuer would mint it (iss, aud, iat, exp in an hour), to vary one thing at a time. */
const minted = (claims: Record<string, unknown> = { role: 'CUSTOMER' }) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('c-1').setIssuer(DEFAULT_ISSUER).setAudience(DEFAULT_AUDIENCE).setIssuedAt().setExpirationTime(inAnHour());
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verifyAccessToken', () => {
  it('accepts a good token and returns the caller', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER', email: 'c1@example.com' }, secret);
    await expect(verifyAccessToken(token, policy)).resolves.toMatchObject({ id: 'c-1', role: 'CUSTOMER', email: 'c1@example.com', restaurantId: null });
  });

  it('keeps restaurantId for a RESTAURANT token', async () => {
    const token = await signAccessToken({ sub: 'staff-1', role: 'RESTAURANT', restaurantId: 'r-1' }, secret);
    await expect(verifyAccessToken(token, policy)).resolves.toMatchObject({ role: 'RESTAURANT', restaurantId: 'r-1' });
  });

  it('refuses an expired token, saying so', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret, { now: new Date(Date.now() - 7200_000), expiresInSeconds: 60 });
    await expect(verifyAccessToken(token, policy)).rejects.toThrow(/expired/);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, 'another-secret-that-is-at-least-32-chars!!');
    await expect(verifyAccessToken(token, policy)).rejects.toThrow(UnauthenticatedError);
  });

  it('refuses alg "none" and HS512 even with the right secret', async () => {
    const unsigned = new UnsecuredJWT({ role: 'ADMIN' }).setSubject('x').setExpirationTime(inAnHour()).encode();
    await expect(verifyAccessToken(unsigned, policy)).rejects.toThrow('not valid');
    const hs512 = await new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS512' }).setSubject('x').setExpirationTime(inAnHour()).sign(key);
    await expect(verifyAccessToken(hs512, policy)).rejects.toThrow('not valid');
  });

  it.each([
    ['no sub', { role: 'CUSTOMER' }, true, /"sub"/],
    ['no role', { sub: 'c-1' }, true, /"role"/],
    ['an unknown role', { sub: 'c-1', role: 'SUPERUSER' }, true, /"role"/],
    ['a RESTAURANT without restaurantId', { sub: 's-1', role: 'RESTAURANT' }, true, /restaurantId/],
    ['a malformed email', { sub: 'c-1', role: 'CUSTOMER', email: 'nope' }, true, /"email"/],
    ['no exp', { sub: 'c-1', role: 'CUSTOMER' }, false, /"exp"/],
  ])('refuses a token with %s', async (_name, claims, withExp, message) => {
    const { sub, ...rest } = claims as { sub?: string };
    let jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).setIssuer(DEFAULT_ISSUER).setAudience(DEFAULT_AUDIENCE).setIssuedAt();
    if (sub) jwt = jwt.setSubject(sub);
    if (withExp) jwt = jwt.setExpirationTime(inAnHour());
    await expect(verifyAccessToken(await jwt.sign(key), policy)).rejects.toThrow(message);
  });

  it('remembers a verified token only until it expires, and only under its own secret', async () => {
    const issuedAt = new Date('2030-01-01T12:00:00.000Z');
    const token = await signAccessToken({ sub: 'c-9', role: 'CUSTOMER' }, secret, { now: issuedAt, expiresInSeconds: 60 });
    await expect(verifyAccessToken(token, policy, new Date(issuedAt.getTime() + 1_000))).resolves.toMatchObject({ id: 'c-9' });
    await expect(verifyAccessToken(token, policy, new Date(issuedAt.getTime() + 30_000))).resolves.toMatchObject({ id: 'c-9' });
    // Expired once past exp and the 30 s skew.
    await expect(verifyAccessToken(token, policy, new Date(issuedAt.getTime() + 91_000))).rejects.toThrow(/expired/);
    await expect(verifyAccessToken(token, { ...policy, secret: `${secret}-rotated` }, new Date(issuedAt.getTime() + 1_000))).rejects.toThrow(UnauthenticatedError);
  });

  it('refuses RS256, whether signed with an RSA key or with our HS secret as its key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs256 = await new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'RS256' }).setSubject('x').setIssuer(DEFAULT_ISSUER).setAudience(DEFAULT_AUDIENCE).setIssuedAt().setExpirationTime(inAnHour()).sign(privateKey);
    await expect(verifyAccessToken(rs256, policy)).rejects.toThrow('not valid');
    // The algorithm-confusion forgery: header RS256, signature an HMAC with the shared secret.
    const body = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url({ sub: 'x', role: 'ADMIN', iss: DEFAULT_ISSUER, aud: DEFAULT_AUDIENCE, iat: nowSeconds(), exp: inAnHour() })}`;
    const forged = `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    await expect(verifyAccessToken(forged, policy)).rejects.toThrow('not valid');
  });

  it('refuses another issuer or audience, or none', async () => {
    await expect(verifyAccessToken(await minted().setIssuer('https://evil.example').sign(key), policy)).rejects.toThrow(/"iss"/);
    await expect(verifyAccessToken(await minted().setAudience('another-api').sign(key), policy)).rejects.toThrow(/"aud"/);
    const bare = await new SignJWT({ role: 'CUSTOMER' }).setProtectedHeader({ alg: 'HS256' }).setSubject('c-1').setIssuedAt().setExpirationTime(inAnHour()).sign(key);
    await expect(verifyAccessToken(bare, policy)).rejects.toThrow(/"iss"/);
    const custom = { ...policy, issuer: 'https://id.example', audience: 'orders' };
    const theirs = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret, { issuer: 'https://id.example', audience: 'orders' });
    await expect(verifyAccessToken(theirs, custom)).resolves.toMatchObject({ id: 'c-1' });
  });

  it('refuses a token minted to live longer than the maximum, or without iat', async () => {
    const long = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret, { expiresInSeconds: 86_401 });
    await expect(verifyAccessToken(long, policy)).rejects.toThrow(/lives 86401 s; at most 86400/);
    await expect(verifyAccessToken(await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret, { expiresInSeconds: 86_400 }), policy)).resolves.toMatchObject({ id: 'c-1' });
    const noIat = await new SignJWT({ role: 'CUSTOMER' }).setProtectedHeader({ alg: 'HS256' }).setSubject('c-1').setIssuer(DEFAULT_ISSUER).setAudience(DEFAULT_AUDIENCE).setExpirationTime(inAnHour()).sign(key);
    await expect(verifyAccessToken(noIat, policy)).rejects.toThrow(/"iat"/);
  });

  it('tolerates clocks apart by the skew, no more', async () => {
    const issuedAt = new Date('2031-01-01T12:00:00.000Z');
    const token = await signAccessToken({ sub: 'c-skew', role: 'CUSTOMER' }, secret, { now: issuedAt, expiresInSeconds: 60 });
    const at = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);
    await expect(verifyAccessToken(token, policy, at(60 + 29))).resolves.toMatchObject({ id: 'c-skew' });
    await expect(verifyAccessToken(token, { ...policy, clockSkewSeconds: 5 }, at(60 + 29))).rejects.toThrow(/expired/);
    // Issued in the future (the issuer's clock ahead): within the skew only.
    await expect(verifyAccessToken(token, { ...policy, clockSkewSeconds: 10 }, at(-5))).resolves.toMatchObject({ id: 'c-skew' });
    await expect(verifyAccessToken(token, { ...policy, clockSkewSeconds: 11 }, at(-20))).rejects.toThrow(/"iat"/);
  });

  it('signs with the configuration\'s default issuer and audience', () => {
    expect([configOptions.JWT_ISSUER.default, configOptions.JWT_AUDIENCE.default]).toEqual([DEFAULT_ISSUER, DEFAULT_AUDIENCE]);
  });

  it('refuses garbage', async () => {
    await expect(verifyAccessToken('not.a.jwt', policy)).rejects.toThrow(UnauthenticatedError);
  });
});

describe('identify', () => {
  it('reads a Bearer header', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret);
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
    expect(bearerToken(`bearer ${token}`)).toBe(token);
    expect((await identify(`Bearer ${token}`, policy)).viewer?.id).toBe('c-1');
  });

  it('keeps the reason when there is no usable identity', async () => {
    expect(await identify(undefined, policy)).toMatchObject({ viewer: null, problem: expect.stringMatching(/Authorization/) });
    expect(await identify('Basic abc', policy)).toMatchObject({ viewer: null, problem: expect.stringMatching(/Bearer/) });
    expect(await identify('Bearer x.y.z', policy)).toMatchObject({ viewer: null, problem: expect.stringMatching(/not valid/) });
  });
});
