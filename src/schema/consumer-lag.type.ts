import 'reflect-metadata';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { LagReport } from '../kafka/lag-report';
import { DateTimeScalar, SafeIntScalar } from './scalars';

@ObjectType({ description: 'Messages of one partition a consumer group has not committed yet: its end offset less the group\'s committed offset.' })
export class PartitionLag {
  @Field({ description: 'The topic\'s logical name (`order.placed`).' }) topic!: string;
  @Field(() => Int) partition!: number;
  @Field(() => SafeIntScalar) lag!: number;
}

@ObjectType({ description: 'How far one of the product\'s consumer groups is behind on its topics.' })
export class ConsumerGroupLag {
  @Field(() => ID, { description: 'The group\'s name (its consumer module\'s), without the deployment\'s namespace.' }) groupId!: string;
  @Field(() => SafeIntScalar, { description: 'The sum over its partitions.' }) totalLag!: number;
  @Field(() => [PartitionLag]) partitions!: PartitionLag[];
}

@ObjectType({ description: 'Every consumer group\'s lag, read by the API through the Kafka admin API.' })
export class ConsumerLagReport {
  @Field(() => [ConsumerGroupLag]) groups!: ConsumerGroupLag[];
  @Field(() => DateTimeScalar, { description: 'When Kafka answered; a reading is served for a few seconds.' }) readAt!: Date;

  static from(report: LagReport): ConsumerLagReport {
    return Object.assign(new ConsumerLagReport(), {
      readAt: report.readAt,
      groups: report.groups.map((g) =>
        Object.assign(new ConsumerGroupLag(), { ...g, partitions: g.partitions.map((p) => Object.assign(new PartitionLag(), p)) }),
      ),
    });
  }
}
