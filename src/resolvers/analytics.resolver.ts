import 'reflect-metadata';
import { Arg, Ctx, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import { ForbiddenError } from '../auth/auth.errors';
import { requireRole } from '../auth/guards';
import type { Viewer } from '../auth/viewer';
import { GLOBAL_SCOPE, restaurantScope, toSnapshot } from '../domain/analytics';
import { checkId } from '../domain/text-input';
import type { AnalyticsUpdated } from '../events/analytics-events';
import { TOPICS } from '../events/topics';
import { analyticsStateOf } from '../mongo/models/analytics.model';
import { AnalyticsSnapshot } from '../schema/analytics.type';
import { analyticsScopeKeys } from '../subscriptions/subscriber-index';
import type { ApiContext } from './context';

const ANALYTICS_ROLES = ['ADMIN', 'RESTAURANT'] as const;
const RESTAURANT_ARG = { nullable: true, description: 'ADMIN: one restaurant\'s figures instead of everyone\'s. RESTAURANT: its own (any other is FORBIDDEN).' };

/**
 * The figures a caller may see: everyone's for an admin, or those of the restaurant it names;
 * its own for a restaurant, which may name only itself.
 */
export function analyticsScopeOf(viewer: Viewer, restaurantId: string | null = null): string {
  if (viewer.role === 'RESTAURANT') {
    if (restaurantId !== null && restaurantId !== viewer.restaurantId) throw new ForbiddenError('a restaurant account sees only its own restaurant\'s figures');
    return restaurantScope(viewer.restaurantId ?? '');
  }
  return restaurantId === null ? GLOBAL_SCOPE : restaurantScope(checkId('restaurantId', restaurantId));
}

/** The subscription's scope, checked again for each use type-graphql makes of it. */
function subscribedScope(context: unknown, args: { restaurantId?: string | null }): string {
  const viewer = requireRole((context as ApiContext).identity, ANALYTICS_ROLES, 'analyticsUpdated');
  return analyticsScopeOf(viewer, args.restaurantId ?? null);
}

@Resolver(() => AnalyticsSnapshot)
export class AnalyticsResolver {
  @Query(() => AnalyticsSnapshot, { description: 'ADMIN (all restaurants, or the one named) or RESTAURANT (its own).' })
  async analytics(
    @Arg('restaurantId', () => ID, RESTAURANT_ARG) restaurantId: string | null,
    @Ctx() { identity, services }: ApiContext,
  ): Promise<AnalyticsSnapshot> {
    const viewer = requireRole(identity, ANALYTICS_ROLES, 'analytics');
    const scope = analyticsScopeOf(viewer, restaurantId ?? null);
    const doc = await services.analytics.findById(scope).lean();
    return AnalyticsSnapshot.from(toSnapshot(analyticsStateOf(scope, doc)));
  }

  @Subscription(() => AnalyticsSnapshot, {
    description: 'Streamed from the analytics.updated topic. ADMIN (all restaurants, or the one named) or RESTAURANT (its own).',
    topics: ({ args, context }) => {
      subscribedScope(context, args);
      return TOPICS.analyticsUpdated;
    },
    // Only the snapshots of the caller's scope are delivered to it (routing keys, no filter per event).
    topicId: ({ args, context }) => analyticsScopeKeys(subscribedScope(context, args)),
  })
  analyticsUpdated(
    @Arg('restaurantId', () => ID, RESTAURANT_ARG) _restaurantId: string | null,
    @Root() event: AnalyticsUpdated,
  ): AnalyticsSnapshot {
    return AnalyticsSnapshot.from(event.data);
  }
}
