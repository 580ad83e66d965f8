import type { Restaurant } from '../domain/catalog';
import { toRestaurant, type RestaurantModel } from '../mongo/models/restaurant.model';

export type RestaurantLookup = (restaurantId: string) => Promise<Restaurant | null>;

/**
 * The restaurants placeOrder prices from, each read from the store at most once per `ttlMs`, so
 * placing an order costs no store round trip for its prices. Menus change rarely, and a
 * price is fixed into order.placed when the order is placed, so a change taking a few seconds
 * to reach every API instance is harmless. Concurrent misses of one restaurant share one read.
 */
export function cachedRestaurants(restaurants: RestaurantModel, ttlMs = 5_000, now: () => number = Date.now): RestaurantLookup {
  const cache = new Map<string, { readonly at: number; readonly value: Promise<Restaurant | null> }>();
  return (restaurantId) => {
    const hit = cache.get(restaurantId);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = restaurants
      .findById(restaurantId)
      .lean()
      .then((doc) => (doc ? toRestaurant(doc) : null));
    cache.set(restaurantId, { at: now(), value });
    // A failed read is not remembered: the next request asks the store again.
    value.catch(() => cache.delete(restaurantId));
    return value;
  };
}
