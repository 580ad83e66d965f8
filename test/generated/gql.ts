/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Analytics($topItems: Int) {\n  analytics {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    ordersPaymentFailed\n    ordersCancelled\n    ordersDelivered\n    revenueCents\n    averageOrderValueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      name\n      quantity\n    }\n    byRestaurant {\n      restaurantId\n      ordersConfirmed\n      revenueCents\n    }\n    updatedAt\n  }\n}": typeof types.AnalyticsDocument,
    "fragment OrderFields on Order {\n  id\n  customerId\n  restaurantId\n  items {\n    menuItemId\n    name\n    quantity\n    unitPriceCents\n    lineTotalCents\n  }\n  totalCents\n  currency\n  deliveryAddress\n  status\n  statusHistory {\n    status\n    at\n    reason\n  }\n  createdAt\n  updatedAt\n}": typeof types.OrderFieldsFragmentDoc,
    "query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}\n\nquery MyOrders($first: Int, $after: String) {\n  myOrders(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        status\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderFields\n  }\n}\n\nmutation CancelOrder($id: ID!, $reason: String) {\n  cancelOrder(id: $id, reason: $reason) {\n    ...OrderFields\n  }\n}\n\nmutation AdvanceOrder($id: ID!, $status: OrderStatus!) {\n  advanceOrder(id: $id, status: $status) {\n    ...OrderFields\n  }\n}": typeof types.OrderDocument,
    "query Restaurants {\n  restaurants {\n    id\n    name\n    menu {\n      id\n      name\n      priceCents\n      available\n    }\n  }\n}\n\nquery Restaurant($id: ID!) {\n  restaurant(id: $id) {\n    id\n    name\n  }\n}\n\nquery Me {\n  me {\n    id\n    role\n    restaurantId\n    email\n  }\n}": typeof types.RestaurantsDocument,
    "subscription OrderConfirmed {\n  orderConfirmed {\n    orderId\n    customerId\n    restaurantId\n    totalCents\n    transactionId\n    confirmedAt\n  }\n}\n\nsubscription OrderStatusChanged($orderId: ID) {\n  orderStatusChanged(orderId: $orderId) {\n    orderId\n    customerId\n    restaurantId\n    status\n    at\n    reason\n  }\n}\n\nsubscription AnalyticsUpdated($topItems: Int) {\n  analyticsUpdated {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    revenueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      quantity\n    }\n    updatedAt\n  }\n}": typeof types.OrderConfirmedDocument,
};
const documents: Documents = {
    "query Analytics($topItems: Int) {\n  analytics {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    ordersPaymentFailed\n    ordersCancelled\n    ordersDelivered\n    revenueCents\n    averageOrderValueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      name\n      quantity\n    }\n    byRestaurant {\n      restaurantId\n      ordersConfirmed\n      revenueCents\n    }\n    updatedAt\n  }\n}": types.AnalyticsDocument,
    "fragment OrderFields on Order {\n  id\n  customerId\n  restaurantId\n  items {\n    menuItemId\n    name\n    quantity\n    unitPriceCents\n    lineTotalCents\n  }\n  totalCents\n  currency\n  deliveryAddress\n  status\n  statusHistory {\n    status\n    at\n    reason\n  }\n  createdAt\n  updatedAt\n}": types.OrderFieldsFragmentDoc,
    "query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}\n\nquery MyOrders($first: Int, $after: String) {\n  myOrders(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        status\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderFields\n  }\n}\n\nmutation CancelOrder($id: ID!, $reason: String) {\n  cancelOrder(id: $id, reason: $reason) {\n    ...OrderFields\n  }\n}\n\nmutation AdvanceOrder($id: ID!, $status: OrderStatus!) {\n  advanceOrder(id: $id, status: $status) {\n    ...OrderFields\n  }\n}": types.OrderDocument,
    "query Restaurants {\n  restaurants {\n    id\n    name\n    menu {\n      id\n      name\n      priceCents\n      available\n    }\n  }\n}\n\nquery Restaurant($id: ID!) {\n  restaurant(id: $id) {\n    id\n    name\n  }\n}\n\nquery Me {\n  me {\n    id\n    role\n    restaurantId\n    email\n  }\n}": types.RestaurantsDocument,
    "subscription OrderConfirmed {\n  orderConfirmed {\n    orderId\n    customerId\n    restaurantId\n    totalCents\n    transactionId\n    confirmedAt\n  }\n}\n\nsubscription OrderStatusChanged($orderId: ID) {\n  orderStatusChanged(orderId: $orderId) {\n    orderId\n    customerId\n    restaurantId\n    status\n    at\n    reason\n  }\n}\n\nsubscription AnalyticsUpdated($topItems: Int) {\n  analyticsUpdated {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    revenueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      quantity\n    }\n    updatedAt\n  }\n}": types.OrderConfirmedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Analytics($topItems: Int) {\n  analytics {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    ordersPaymentFailed\n    ordersCancelled\n    ordersDelivered\n    revenueCents\n    averageOrderValueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      name\n      quantity\n    }\n    byRestaurant {\n      restaurantId\n      ordersConfirmed\n      revenueCents\n    }\n    updatedAt\n  }\n}"): (typeof documents)["query Analytics($topItems: Int) {\n  analytics {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    ordersPaymentFailed\n    ordersCancelled\n    ordersDelivered\n    revenueCents\n    averageOrderValueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      name\n      quantity\n    }\n    byRestaurant {\n      restaurantId\n      ordersConfirmed\n      revenueCents\n    }\n    updatedAt\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment OrderFields on Order {\n  id\n  customerId\n  restaurantId\n  items {\n    menuItemId\n    name\n    quantity\n    unitPriceCents\n    lineTotalCents\n  }\n  totalCents\n  currency\n  deliveryAddress\n  status\n  statusHistory {\n    status\n    at\n    reason\n  }\n  createdAt\n  updatedAt\n}"): (typeof documents)["fragment OrderFields on Order {\n  id\n  customerId\n  restaurantId\n  items {\n    menuItemId\n    name\n    quantity\n    unitPriceCents\n    lineTotalCents\n  }\n  totalCents\n  currency\n  deliveryAddress\n  status\n  statusHistory {\n    status\n    at\n    reason\n  }\n  createdAt\n  updatedAt\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}\n\nquery MyOrders($first: Int, $after: String) {\n  myOrders(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        status\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderFields\n  }\n}\n\nmutation CancelOrder($id: ID!, $reason: String) {\n  cancelOrder(id: $id, reason: $reason) {\n    ...OrderFields\n  }\n}\n\nmutation AdvanceOrder($id: ID!, $status: OrderStatus!) {\n  advanceOrder(id: $id, status: $status) {\n    ...OrderFields\n  }\n}"): (typeof documents)["query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}\n\nquery MyOrders($first: Int, $after: String) {\n  myOrders(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        status\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderFields\n  }\n}\n\nmutation CancelOrder($id: ID!, $reason: String) {\n  cancelOrder(id: $id, reason: $reason) {\n    ...OrderFields\n  }\n}\n\nmutation AdvanceOrder($id: ID!, $status: OrderStatus!) {\n  advanceOrder(id: $id, status: $status) {\n    ...OrderFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Restaurants {\n  restaurants {\n    id\n    name\n    menu {\n      id\n      name\n      priceCents\n      available\n    }\n  }\n}\n\nquery Restaurant($id: ID!) {\n  restaurant(id: $id) {\n    id\n    name\n  }\n}\n\nquery Me {\n  me {\n    id\n    role\n    restaurantId\n    email\n  }\n}"): (typeof documents)["query Restaurants {\n  restaurants {\n    id\n    name\n    menu {\n      id\n      name\n      priceCents\n      available\n    }\n  }\n}\n\nquery Restaurant($id: ID!) {\n  restaurant(id: $id) {\n    id\n    name\n  }\n}\n\nquery Me {\n  me {\n    id\n    role\n    restaurantId\n    email\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription OrderConfirmed {\n  orderConfirmed {\n    orderId\n    customerId\n    restaurantId\n    totalCents\n    transactionId\n    confirmedAt\n  }\n}\n\nsubscription OrderStatusChanged($orderId: ID) {\n  orderStatusChanged(orderId: $orderId) {\n    orderId\n    customerId\n    restaurantId\n    status\n    at\n    reason\n  }\n}\n\nsubscription AnalyticsUpdated($topItems: Int) {\n  analyticsUpdated {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    revenueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      quantity\n    }\n    updatedAt\n  }\n}"): (typeof documents)["subscription OrderConfirmed {\n  orderConfirmed {\n    orderId\n    customerId\n    restaurantId\n    totalCents\n    transactionId\n    confirmedAt\n  }\n}\n\nsubscription OrderStatusChanged($orderId: ID) {\n  orderStatusChanged(orderId: $orderId) {\n    orderId\n    customerId\n    restaurantId\n    status\n    at\n    reason\n  }\n}\n\nsubscription AnalyticsUpdated($topItems: Int) {\n  analyticsUpdated {\n    scope\n    ordersPlaced\n    ordersConfirmed\n    revenueCents\n    topItems(limit: $topItems) {\n      menuItemId\n      quantity\n    }\n    updatedAt\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;