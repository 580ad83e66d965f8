import type { Restaurant } from '../domain/catalog';
import type { RestaurantModel } from '../mongo/models/restaurant.model';

/**
 * Upserts every restaurant of `catalog` by id: safe to run at every start and from several
 * instances at once. Restaurants not in the catalog are left alone.
 */
export async function seedCatalog(restaurants: RestaurantModel, catalog: readonly Restaurant[]): Promise<number> {
  if (catalog.length === 0) return 0;
  await restaurants.bulkWrite(
    catalog.map((r) => ({
      updateOne: {
        filter: { _id: r.id },
        update: { $set: { name: r.name, menu: r.menu.map((m) => ({ ...m })) } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  return catalog.length;
}
