import { ForbiddenError, UnauthenticatedError } from './auth.errors';
import type { Identity, Role, Viewer } from './viewer';

/** The caller, or UNAUTHENTICATED saying why there is none. Re-checks expiry for long-lived sockets. */
export function requireViewer(identity: Identity, now: Date = new Date()): Viewer {
  if (identity.viewer === null) throw new UnauthenticatedError(identity.problem);
  if (identity.viewer.expiresAt * 1000 <= now.getTime()) throw new UnauthenticatedError('the access token has expired');
  return identity.viewer;
}

/** The caller when its role is one of `roles`; FORBIDDEN otherwise. */
export function requireRole(identity: Identity, roles: readonly Role[], action: string, now: Date = new Date()): Viewer {
  const viewer = requireViewer(identity, now);
  if (!roles.includes(viewer.role)) {
    throw new ForbiddenError(`${action} is for ${roles.join(' or ')} accounts, not ${viewer.role}`);
  }
  return viewer;
}
