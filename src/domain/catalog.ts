export interface MenuItem {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
  readonly available: boolean;
}

export interface Restaurant {
  readonly id: string;
  readonly name: string;
  readonly menu: readonly MenuItem[];
}

export const CURRENCY = 'EUR';
