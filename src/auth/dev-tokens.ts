import { randomBytes } from 'node:crypto';
import { signAccessToken, type TokenPolicy } from './access-token';

/** Ready-to-paste tokens printed at a development start: one per role. */
export interface DevelopmentTokens {
  readonly customer: string;
  readonly restaurant: string;
  readonly admin: string;
}

export const DEMO_CUSTOMER = { id: 'demo-customer', email: 'demo.customer@example.com' } as const;
export const DEMO_ADMIN_ID = 'demo-admin';

/** A fresh secret for a development start without JWT_SECRET: tokens die with the process. */
export function generateDevelopmentSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Signs the demo customer (with an email), a user of `restaurantId` and an admin, valid for a
 * day (or the longest lifetime accepted). Only ever with a secret generated for this start
 * (config.demoTokens): an ADMIN token signed with an operator's secret would outlive the demo.
 */
export async function developmentTokens(policy: TokenPolicy, restaurantId: string, now = new Date()): Promise<DevelopmentTokens> {
  const options = { expiresInSeconds: Math.min(24 * 60 * 60, policy.maxLifetimeSeconds), now, issuer: policy.issuer, audience: policy.audience };
  const [customer, restaurant, admin] = await Promise.all([
    signAccessToken({ sub: DEMO_CUSTOMER.id, role: 'CUSTOMER', email: DEMO_CUSTOMER.email }, policy.secret, options),
    signAccessToken({ sub: `demo-staff-${restaurantId}`, role: 'RESTAURANT', restaurantId }, policy.secret, options),
    signAccessToken({ sub: DEMO_ADMIN_ID, role: 'ADMIN' }, policy.secret, options),
  ]);
  return { customer, restaurant, admin };
}

/** The one log block that tells a developer how to call the API. */
export function describeDevelopmentTokens(tokens: DevelopmentTokens, restaurantId: string, graphiqlUrl: string | null, dashboardUrl: string | null = null): string {
  return [
    'Development access tokens (valid 24 h). Send one as the header  Authorization: Bearer <token>',
    `  CUSTOMER   (${DEMO_CUSTOMER.id}, ${DEMO_CUSTOMER.email})`,
    `    Bearer ${tokens.customer}`,
    `  RESTAURANT (${restaurantId})`,
    `    Bearer ${tokens.restaurant}`,
    `  ADMIN      (${DEMO_ADMIN_ID})`,
    `    Bearer ${tokens.admin}`,
    graphiqlUrl ? `GraphiQL: ${graphiqlUrl}  (the customer token is pre-filled)` : 'GraphiQL is off',
    dashboardUrl ? `Operations dashboard: ${dashboardUrl}  (opens with the admin token)` : 'The operations dashboard is off',
  ].join('\n');
}
