/**
 * The operations dashboard as a person uses it: headless Chromium (Debian's `chromium`, driven
 * by playwright-core) opens /dashboard from an in-process API started as `./dev up` starts it
 * (development, demo tokens), with the consumers that move the figures (transactions, order
 * authority, analytics, orders projector) on the real broker and store. Orders placed, declined,
 * cancelled and delivered through GraphQL must show on the open page, pushed by
 * `analyticsUpdated` (the page is never reloaded); the lag table lists every consumer group; a
 * RESTAURANT token sees only its restaurant's figures; nothing is loaded from another host and
 * the strict CSP refuses nothing. The screenshot lands in .local/screenshots/dashboard.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsConsumer } from '../../src/consumers/analytics.consumer';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import { createTransactionsConsumer } from '../../src/consumers/transactions.consumer';
import { CONSUMER_GROUP_TOPICS } from '../../src/events/consumer-groups';
import type { DevelopmentTokens } from '../../src/auth/dev-tokens';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import * as ops from '../generated/graphql';
import type { OrderStatus, PlaceOrderInput } from '../generated/graphql';
import { gql, startApiWorld, type ApiWorld } from '../support/api-harness';
import { testLogger, waitFor } from '../support/services';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const screenshots = resolve(__dirname, '../../.local/screenshots');
// Locally a missing browser skips (saying how to get it); in CI it must run, and fails without it.
const skip = !existsSync(CHROMIUM) && !process.env.CI;
if (skip) console.warn(`[dashboard.test] skipped: ${CHROMIUM} is missing. Install it with: apt-get update && apt-get install -y chromium`);

let world: ApiWorld;
let consumers: RunningConsumer[] = [];
let tokens: DevelopmentTokens;
let browser: Browser;
let admin: Page;
let restaurant: Page;
const foreign: string[] = [];
const pageErrors: string[] = [];
/** What each captured order added to the revenue, by id (a declined one adds nothing). */
const captured = new Map<string, number>();
const revenueOf = (ids: Iterable<string>) => [...ids].reduce((sum, id) => sum + captured.get(id)!, 0);

const napoli = (paymentToken: string, quantity = 2): PlaceOrderInput => ({
  restaurantId: 'pizzeria-napoli',
  items: [{ menuItemId: 'margherita', quantity }],
  deliveryAddress: '1 Dashboard Street',
  paymentToken,
});
const sakura = (): PlaceOrderInput => ({ restaurantId: 'sushi-sakura', items: [{ menuItemId: 'miso-soup', quantity: 3 }], deliveryAddress: '2 Dashboard Street', paymentToken: 'tok_visa' });

async function place(input: PlaceOrderInput): Promise<string> {
  const answer = await gql(world.api.graphqlUrl, ops.PlaceOrderDocument, { input }, tokens.customer);
  expect(answer.errors).toBeUndefined();
  if (input.paymentToken !== 'tok_declined') captured.set(answer.data!.placeOrder.id, answer.data!.placeOrder.totalCents);
  return answer.data!.placeOrder.id;
}
const untilStatus = (id: string, status: OrderStatus) =>
  waitFor(async () => (await gql(world.api.graphqlUrl, ops.OrderDocument, { id }, tokens.customer)).data?.order?.status === status, 30_000, `order ${id} to be ${status}`);

/** The page's figure `name` as shown (textContent of [data-figure=name]). */
const shown = (page: Page, name: string) => page.locator(`[data-figure="${name}"]`).innerText();
const euros = (cents: number) => `€${(cents / 100).toFixed(2)}`;
/** Waits until the page shows every figure as expected (the page is never reloaded: only analyticsUpdated moves them). */
async function untilShown(page: Page, expected: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(expected)) await expect.poll(() => shown(page, name), { timeout: 30_000, message: name }).toBe(value);
}

/** Opens /dashboard in a fresh tab that records foreign requests and page errors (CSP refusals included). */
async function openDashboard(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const origin = new URL(world.api.graphqlUrl).origin;
  page.on('request', (request) => {
    const url = request.url();
    if (![origin, origin.replace(/^http/, 'ws'), 'blob:', 'data:'].some((allowed) => url.startsWith(allowed))) foreign.push(url);
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(`${origin}/dashboard`);
  return page;
}

async function signInWith(page: Page, token: string): Promise<void> {
  await page.locator('#sign-out').click();
  await page.locator('#token').fill(token);
  await page.locator('#sign-in button[type="submit"]').click();
}

describe.skipIf(skip)('the operations dashboard in headless Chromium', () => {
  beforeAll(async () => {
    // As `./dev up` runs it: development without an operator secret, so the page opens with the demo admin token.
    world = await startApiWorld('dashboard', {}, { NODE_ENV: 'development', JWT_SECRET: undefined });
    tokens = world.api.developmentTokens!;
    // The order authority runs with every test API; these move orders on and count them.
    const options = { config: world.config, log: testLogger('dashboard-consumers') };
    consumers = await Promise.all([
      startConsumer(createTransactionsConsumer(), options),
      startConsumer(createAnalyticsConsumer(), options),
      startConsumer(createOrdersProjector(), options),
    ]);
    await Promise.all(consumers.map((c) => c.joined));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    admin = await openDashboard();
  }, 180_000);

  afterAll(async () => {
    if (admin) {
      // One more tick of the time charts (every 5 s), so they reach the figures shown beside them.
      await admin.waitForTimeout(5_500);
      mkdirSync(screenshots, { recursive: true });
      await admin.screenshot({ path: join(screenshots, 'dashboard.png'), fullPage: true });
    }
    await browser?.close();
    await Promise.all(consumers.map((c) => c.stop()));
    await world?.stop();
  });

  it('opens signed in with the demo admin token, live, with the figures of a fresh system', async () => {
    await expect.poll(() => admin.locator('#connection').getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    expect(await admin.locator('#who').innerText()).toBe('ADMIN demo-admin');
    await untilShown(admin, { ordersPlaced: '0', ordersConfirmed: '0', revenue: euros(0), ordersPerMinute: '0' });
  });

  // Top items count what was ordered (placed), declined orders included.
  it('shows orders placed, confirmed and declined as they happen: per minute, revenue, the funnel, top items', async () => {
    for (const input of [napoli('tok_visa'), napoli('tok_visa', 1), sakura(), napoli('tok_declined')]) await place(input);
    await untilShown(admin, { ordersPlaced: '4', ordersConfirmed: '3', ordersPaymentFailed: '1', ordersPerMinute: '4', revenue: euros(revenueOf(captured.keys())) });
    await expect.poll(() => admin.locator('#top-items li').allInnerTexts()).toEqual(['Pizza Margherita: 5', 'Miso Soup: 3']);
  });

  it('takes a refund off the revenue and counts cancelled and delivered orders', async () => {
    const [cancelled, delivered] = [await place(napoli('tok_visa')), await place(napoli('tok_visa', 1))];
    await Promise.all([untilStatus(cancelled, 'CONFIRMED'), untilStatus(delivered, 'CONFIRMED')]);
    const cancel = await gql(world.api.graphqlUrl, ops.CancelOrderDocument, { id: cancelled, reason: 'changed my mind' }, tokens.customer);
    expect(cancel.errors).toBeUndefined();
    for (const status of ['PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'] as const) {
      const advanced = await gql(world.api.graphqlUrl, ops.AdvanceOrderDocument, { id: delivered, status }, tokens.restaurant);
      expect(advanced.errors).toBeUndefined();
    }
    // Placed 6, confirmed 5 (the cancelled one was confirmed first), its capture refunded.
    const kept = [...captured.keys()].filter((id) => id !== cancelled);
    await untilShown(admin, { ordersPlaced: '6', ordersConfirmed: '5', ordersCancelled: '1', ordersDelivered: '1', revenue: euros(revenueOf(kept)) });
  });

  it('lists every consumer group\'s lag, read by the API from Kafka', async () => {
    const groups = Object.keys(CONSUMER_GROUP_TOPICS);
    await expect.poll(() => admin.locator('#lag tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.group)), { timeout: 20_000 }).toEqual(groups);
    // Nobody runs the confirmations consumer here: its lag is every confirmation (5); the analytics consumer catches up.
    await expect.poll(() => admin.locator('#lag tr[data-group="confirmations"] td').nth(1).innerText(), { timeout: 20_000 }).toBe('5');
    await expect.poll(() => admin.locator('#lag tr[data-group="analytics"] td').nth(1).innerText(), { timeout: 20_000 }).toBe('0');
  });

  it('shows a RESTAURANT only its restaurant\'s figures, and no lag', async () => {
    restaurant = await openDashboard();
    await signInWith(restaurant, tokens.restaurant);
    await expect.poll(() => restaurant.locator('#who').innerText(), { timeout: 20_000 }).toBe('RESTAURANT pizzeria-napoli');
    // Napoli's own: five placed (one declined), four confirmed, one cancelled, one delivered; sakura's order is not there.
    await untilShown(restaurant, { ordersPlaced: '5', ordersConfirmed: '4', ordersPaymentFailed: '1', ordersCancelled: '1', ordersDelivered: '1' });
    expect(await restaurant.locator('#top-items li').allInnerTexts()).toEqual(['Pizza Margherita: 8']);
    expect(await restaurant.locator('#scope-picker').isHidden()).toBe(true);
    expect(await restaurant.locator('#lag').isHidden()).toBe(true);
    await expect.poll(() => restaurant.locator('#connection').getAttribute('data-state')).toBe('live');

    // Another restaurant's order moves the admin's figures, never the restaurant's; its own does.
    await place(sakura());
    await untilShown(admin, { ordersPlaced: '7' });
    await place(napoli('tok_visa'));
    await untilShown(admin, { ordersPlaced: '8' });
    await untilShown(restaurant, { ordersPlaced: '6' });
  });

  it('lets an admin pick one restaurant\'s figures', async () => {
    const picking = await openDashboard();
    await expect.poll(() => picking.locator('#scope option').count(), { timeout: 20_000 }).toBeGreaterThan(1);
    await untilShown(picking, { ordersPlaced: '8' });
    await picking.locator('#scope').selectOption('sushi-sakura');
    await untilShown(picking, { ordersPlaced: '2', ordersConfirmed: '2', ordersPaymentFailed: '0' });
    expect(await picking.locator('#top-items li').allInnerTexts()).toEqual(['Miso Soup: 6']);
    await picking.close();
  });

  it('says so when a token is refused, or is not for the dashboard', async () => {
    await signInWith(restaurant, 'not-a-token');
    await expect.poll(() => restaurant.locator('#problem').innerText()).toMatch(/^The token was refused: .*\(UNAUTHENTICATED\)/);
    expect(await restaurant.locator('#panels').isHidden()).toBe(true);
    await restaurant.locator('#token').fill(tokens.customer);
    await restaurant.locator('#sign-in button[type="submit"]').click();
    await expect.poll(() => restaurant.locator('#problem').innerText()).toContain('This is a CUSTOMER token');
  });

  it('loaded nothing from another host and broke no rule of its CSP', () => {
    expect(foreign).toEqual([]);
    // The refused token's answer is the one error expected (Chromium logs a failed request's status).
    expect(pageErrors.filter((e) => !/^Failed to load resource: .* status of 40[01]/.test(e))).toEqual([]);
  });
});
