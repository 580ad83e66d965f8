import 'reflect-metadata';
import { Ctx, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requireRole } from '../auth/guards';
import type { Viewer } from '../auth/viewer';
import { GLOBAL_SCOPE, restaurantScope, toSnapshot } from '../domain/analytics';
import type { AnalyticsUpdated } from '../events/analytics-events';
import { TOPICS } from '../events/topics';
import { analyticsStateOf } from '../mongo/models/analytics.model';
import { AnalyticsSnapshot } from '../schema/analytics.type';
import { analyticsScopeKeys } from '../subscriptions/subscriber-index';
import type { ApiContext } from './context';

const ANALYTICS_ROLES = ['ADMIN', 'RESTAURANT'] as const;

/** The figures a caller may see: everyone's for an admin, its own for a restaurant. */
export function analyticsScopeOf(viewer: Viewer): string {
  return viewer.role === 'RESTAURANT' ? restaurantScope(viewer.restaurantId ?? '') : GLOBAL_SCOPE;
}

@Resolver(() => AnalyticsSnapshot)
export class AnalyticsResolver {
  @Query(() => AnalyticsSnapshot, { description: 'ADMIN (all restaurants) or RESTAURANT (its own).' })
  async analytics(@Ctx() { identity, services }: ApiContext): Promise<AnalyticsSnapshot> {
    const viewer = requireRole(identity, ANALYTICS_ROLES, 'analytics');
    const scope = analyticsScopeOf(viewer);
    const doc = await services.analytics.findById(scope).lean();
    return AnalyticsSnapshot.from(toSnapshot(analyticsStateOf(scope, doc)));
  }

  @Subscription(() => AnalyticsSnapshot, {
    description: 'Streamed from the analytics.updated topic. ADMIN or RESTAURANT.',
    topics: ({ context }) => {
      requireRole((context as ApiContext).identity, ANALYTICS_ROLES, 'analyticsUpdated');
      return TOPICS.analyticsUpdated;
    },
    // Only the snapshots of the caller's scope are delivered to it (routing keys, no filter per event).
    topicId: ({ context }) => analyticsScopeKeys(analyticsScopeOf(requireRole((context as ApiContext).identity, ANALYTICS_ROLES, 'analyticsUpdated'))),
  })
  analyticsUpdated(@Root() event: AnalyticsUpdated): AnalyticsSnapshot {
    return AnalyticsSnapshot.from(event.data);
  }
}
