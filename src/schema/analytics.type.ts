import 'reflect-metadata';
import { Arg, Field, ID, Int, ObjectType } from 'type-graphql';
import type { AnalyticsSnapshot as DomainSnapshot } from '../domain/analytics';
import { InvalidInputError } from '../domain/domain.errors';
import { DateTimeScalar, SafeIntScalar } from './scalars';

/** The most `topItems(limit)` may ask for. */
export const MAX_TOP_ITEMS = 50;

@ObjectType()
export class ItemStats {
  @Field(() => ID) menuItemId!: string;
  @Field() name!: string;
  @Field(() => SafeIntScalar) quantity!: number;
}

@ObjectType()
export class RestaurantStats {
  @Field(() => ID) restaurantId!: string;
  @Field(() => SafeIntScalar) ordersConfirmed!: number;
  @Field(() => SafeIntScalar) revenueCents!: number;
}

@ObjectType({ description: 'Live order figures: everyone\'s for ADMIN, its own for a RESTAURANT.' })
export class AnalyticsSnapshot {
  @Field({ description: '`global`, or `restaurant:<id>`.' }) scope!: string;
  @Field(() => SafeIntScalar) ordersPlaced!: number;
  @Field(() => SafeIntScalar) ordersConfirmed!: number;
  @Field(() => SafeIntScalar) ordersPaymentFailed!: number;
  @Field(() => SafeIntScalar) ordersCancelled!: number;
  @Field(() => SafeIntScalar) ordersDelivered!: number;
  @Field(() => SafeIntScalar, { description: 'Captured minus refunded.' }) revenueCents!: number;
  @Field(() => SafeIntScalar) averageOrderValueCents!: number;
  @Field(() => [RestaurantStats]) byRestaurant!: RestaurantStats[];
  @Field(() => DateTimeScalar) updatedAt!: Date;
  /** Every ranked item of the snapshot; the field below returns the first `limit`. */
  rankedItems: readonly ItemStats[] = [];

  @Field(() => [ItemStats], { description: `Best sellers by quantity, at most ${MAX_TOP_ITEMS}.` })
  topItems(@Arg('limit', () => Int, { nullable: true, defaultValue: 5 }) limit: number | null): ItemStats[] {
    const count = limit ?? 5;
    if (!Number.isInteger(count) || count < 0 || count > MAX_TOP_ITEMS) {
      throw new InvalidInputError('limit', `limit must be from 0 to ${MAX_TOP_ITEMS}`);
    }
    return this.rankedItems.slice(0, count).map((i) => Object.assign(new ItemStats(), i));
  }

  static from(snapshot: DomainSnapshot): AnalyticsSnapshot {
    const { topItems, byRestaurant, updatedAt, ...figures } = snapshot;
    return Object.assign(new AnalyticsSnapshot(), {
      ...figures,
      rankedItems: topItems,
      byRestaurant: byRestaurant.map((r) => Object.assign(new RestaurantStats(), r)),
      updatedAt: new Date(updatedAt),
    });
  }
}
