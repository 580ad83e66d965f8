import type { Restaurant } from '../domain/catalog';

/**
 * The demo catalog seeded at every API start. Ids are stable (apps and tests refer to them);
 * one item per restaurant is unavailable so apps can show how a refusal looks.
 */
export const CATALOG: readonly Restaurant[] = [
  {
    id: 'pizzeria-napoli',
    name: 'Pizzeria Napoli',
    menu: [
      { id: 'margherita', name: 'Pizza Margherita', priceCents: 950, available: true },
      { id: 'diavola', name: 'Pizza Diavola', priceCents: 1150, available: true },
      { id: 'calzone', name: 'Calzone', priceCents: 1250, available: false },
      { id: 'tiramisu', name: 'Tiramisù', priceCents: 550, available: true },
    ],
  },
  {
    id: 'sushi-sakura',
    name: 'Sushi Sakura',
    menu: [
      { id: 'salmon-nigiri', name: 'Salmon Nigiri (2 pcs)', priceCents: 480, available: true },
      { id: 'california-roll', name: 'California Roll', priceCents: 890, available: true },
      { id: 'miso-soup', name: 'Miso Soup', priceCents: 350, available: true },
      { id: 'omakase', name: 'Omakase Platter', priceCents: 3900, available: false },
    ],
  },
  {
    id: 'green-bowl',
    name: 'Green Bowl',
    menu: [
      { id: 'falafel-bowl', name: 'Falafel Bowl', priceCents: 1090, available: true },
      { id: 'quinoa-salad', name: 'Quinoa Salad', priceCents: 990, available: true },
      { id: 'smoothie', name: 'Berry Smoothie', priceCents: 450, available: false },
    ],
  },
];
