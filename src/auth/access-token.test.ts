import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from './auth.errors';
import { bearerToken, identify, signAccessToken, verifyAccessToken } from './access-token';

const secret = 'a-test-secret-that-is-at-least-32-characters';
const key = new TextEncoder().encode(secret);
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('verifyAccessToken', () => {
  it('accepts a good token and returns the caller', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER', email: 'c1@example.com' }, secret);
    await expect(verifyAccessToken(token, secret)).resolves.toMatchObject({ id: 'c-1', role: 'CUSTOMER', email: 'c1@example.com', restaurantId: null });
  });

  it('keeps restaurantId for a RESTAURANT token', async () => {
    const token = await signAccessToken({ sub: 'staff-1', role: 'RESTAURANT', restaurantId: 'r-1' }, secret);
    await expect(verifyAccessToken(token, secret)).resolves.toMatchObject({ role: 'RESTAURANT', restaurantId: 'r-1' });
  });

  it('refuses an expired token, saying so', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret, { now: new Date(Date.now() - 7200_000), expiresInSeconds: 60 });
    await expect(verifyAccessToken(token, secret)).rejects.toThrow(/expired/);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, 'another-secret-that-is-at-least-32-chars!!');
    await expect(verifyAccessToken(token, secret)).rejects.toThrow(UnauthenticatedError);
  });

  it('refuses alg "none" and HS512 even with the right secret', async () => {
    const unsigned = new UnsecuredJWT({ role: 'ADMIN' }).setSubject('x').setExpirationTime(inAnHour()).encode();
    await expect(verifyAccessToken(unsigned, secret)).rejects.toThrow('not valid');
    const hs512 = await new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS512' }).setSubject('x').setExpirationTime(inAnHour()).sign(key);
    await expect(verifyAccessToken(hs512, secret)).rejects.toThrow('not valid');
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
    let jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256' });
    if (sub) jwt = jwt.setSubject(sub);
    if (withExp) jwt = jwt.setExpirationTime(inAnHour());
    await expect(verifyAccessToken(await jwt.sign(key), secret)).rejects.toThrow(message);
  });

  it('remembers a verified token only until it expires, and only under its own secret', async () => {
    const issuedAt = new Date('2030-01-01T12:00:00.000Z');
    const token = await signAccessToken({ sub: 'c-9', role: 'CUSTOMER' }, secret, { now: issuedAt, expiresInSeconds: 60 });
    await expect(verifyAccessToken(token, secret, new Date(issuedAt.getTime() + 1_000))).resolves.toMatchObject({ id: 'c-9' });
    await expect(verifyAccessToken(token, secret, new Date(issuedAt.getTime() + 30_000))).resolves.toMatchObject({ id: 'c-9' });
    await expect(verifyAccessToken(token, secret, new Date(issuedAt.getTime() + 60_000))).rejects.toThrow(/expired/);
    await expect(verifyAccessToken(token, `${secret}-rotated`, new Date(issuedAt.getTime() + 1_000))).rejects.toThrow(UnauthenticatedError);
  });

  it('refuses garbage', async () => {
    await expect(verifyAccessToken('not.a.jwt', secret)).rejects.toThrow(UnauthenticatedError);
  });
});

describe('identify', () => {
  it('reads a Bearer header', async () => {
    const token = await signAccessToken({ sub: 'c-1', role: 'CUSTOMER' }, secret);
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
    expect(bearerToken(`bearer ${token}`)).toBe(token);
    expect((await identify(`Bearer ${token}`, secret)).viewer?.id).toBe('c-1');
  });

  it('keeps the reason when there is no usable identity', async () => {
    expect(await identify(undefined, secret)).toMatchObject({ viewer: null, problem: expect.stringMatching(/Authorization/) });
    expect(await identify('Basic abc', secret)).toMatchObject({ viewer: null, problem: expect.stringMatching(/Bearer/) });
    expect(await identify('Bearer x.y.z', secret)).toMatchObject({ viewer: null, problem: expect.stringMatching(/not valid/) });
  });
});
