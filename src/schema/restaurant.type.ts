import 'reflect-metadata';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { MenuItem as CatalogMenuItem, Restaurant as CatalogRestaurant } from '../domain/catalog';

@ObjectType({ description: 'A dish on a menu. Prices are integer cents.' })
export class MenuItem {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => Int) priceCents!: number;
  @Field() available!: boolean;

  static from(item: CatalogMenuItem): MenuItem {
    return Object.assign(new MenuItem(), { id: item.id, name: item.name, priceCents: item.priceCents, available: item.available });
  }
}

@ObjectType()
export class Restaurant {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => [MenuItem]) menu!: MenuItem[];

  static from(restaurant: CatalogRestaurant): Restaurant {
    return Object.assign(new Restaurant(), { id: restaurant.id, name: restaurant.name, menu: restaurant.menu.map((m) => MenuItem.from(m)) });
  }
}
