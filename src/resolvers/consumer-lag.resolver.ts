import 'reflect-metadata';
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireRole } from '../auth/guards';
import { ConsumerLagReport } from '../schema/consumer-lag.type';
import type { ApiContext } from './context';

@Resolver()
export class ConsumerLagResolver {
  /**
   * ADMIN only: the backlog of every group is a figure about the whole platform, not about one
   * restaurant. Served from services.consumerLag, which asks Kafka at most every few seconds.
   */
  @Query(() => ConsumerLagReport, { description: 'ADMIN. Each consumer group\'s lag (committed against end offsets), read from Kafka at most every 5 s.' })
  async consumerLag(@Ctx() { identity, services }: ApiContext): Promise<ConsumerLagReport> {
    requireRole(identity, ['ADMIN'], 'consumerLag');
    return ConsumerLagReport.from(await services.consumerLag.read());
  }
}
