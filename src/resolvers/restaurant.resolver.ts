import 'reflect-metadata';
import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { requireViewer } from '../auth/guards';
import { checkId } from '../domain/text-input';
import { toRestaurant } from '../mongo/models/restaurant.model';
import { Restaurant } from '../schema/restaurant.type';
import type { ApiContext } from './context';

@Resolver(() => Restaurant)
export class RestaurantResolver {
  @Query(() => [Restaurant], { description: 'The catalog, for anyone signed in.' })
  async restaurants(@Ctx() { identity, services }: ApiContext): Promise<Restaurant[]> {
    requireViewer(identity);
    const docs = await services.restaurants.find().sort({ _id: 1 }).lean();
    return docs.map((doc) => Restaurant.from(toRestaurant(doc)));
  }

  @Query(() => Restaurant, { nullable: true })
  async restaurant(@Arg('id', () => ID) id: string, @Ctx() { identity, services }: ApiContext): Promise<Restaurant | null> {
    requireViewer(identity);
    const doc = await services.restaurants.findById(checkId('id', id)).lean();
    return doc ? Restaurant.from(toRestaurant(doc)) : null;
  }
}
