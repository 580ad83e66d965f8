import { Schema, type Connection, type Model } from 'mongoose';
import type { Restaurant } from '../../domain/catalog';

/** The catalog: one document per restaurant, its menu embedded. Seeded at API start. */
export interface RestaurantDocument {
  _id: string; // the restaurant id
  name: string;
  menu: { id: string; name: string; priceCents: number; available: boolean }[];
}

const restaurantSchema = new Schema<RestaurantDocument>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    menu: [
      {
        _id: false,
        id: { type: String, required: true },
        name: { type: String, required: true },
        priceCents: { type: Number, required: true },
        available: { type: Boolean, required: true },
      },
    ],
  },
  { collection: 'restaurants', versionKey: false },
);

export type RestaurantModel = Model<RestaurantDocument>;

export function restaurantModel(connection: Connection): RestaurantModel {
  return (connection.models.Restaurant as RestaurantModel | undefined) ?? connection.model<RestaurantDocument>('Restaurant', restaurantSchema);
}

export function toRestaurant(doc: RestaurantDocument): Restaurant {
  return { id: doc._id, name: doc.name, menu: doc.menu.map(({ id, name, priceCents, available }) => ({ id, name, priceCents, available })) };
}
