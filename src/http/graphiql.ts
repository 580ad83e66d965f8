import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { RequestHandler } from 'express';

const EXAMPLE_QUERY = `# Signed in as the demo customer (see the Headers tab).
query Restaurants {
  restaurants {
    id
    name
    menu { id name priceCents available }
  }
}

# Run this one, then place or change an order to watch it arrive.
subscription MyOrderUpdates {
  orderStatusChanged { orderId status at reason }
}

# Prices come from the server. tok_slow takes ~2 s to capture: watch PLACED become CONFIRMED.
mutation PlaceOrder {
  placeOrder(input: {
    restaurantId: "pizzeria-napoli"
    items: [{ menuItemId: "margherita", quantity: 2 }]
    deliveryAddress: "1 Main Street"
    paymentToken: "tok_slow"
  }) { id status totalCents }
}
`;

/**
 * GraphiQL as one self-contained page: its scripts, styles and editor workers are inlined
 * from @graphql-yoga/render-graphiql, so it works with no CDN. Subscriptions go over
 * graphql-ws on the same endpoint, carrying the token both in connectionParams and in each
 * operation's headers.
 */
export function graphiqlPage(options: { readonly endpoint: string; readonly token: string | null }): string {
  const authorization = options.token ? `Bearer ${options.token}` : null;
  const headers = JSON.stringify(authorization ? { Authorization: authorization } : {}, null, 2);
  const settings = {
    title: 'Food ordering API',
    endpoint: options.endpoint,
    subscriptionsProtocol: 'WS' as const,
    headers,
    defaultHeaders: headers,
    shouldPersistHeaders: false,
    defaultQuery: EXAMPLE_QUERY,
    // Not in the renderer's type, but passed through to its graphql-ws client.
    connectionParams: authorization ? { authorization } : {},
  };
  return renderGraphiQL(settings);
}

/** Serves the page to browsers (GET preferring HTML); everything else goes on to the GraphQL handler. */
export function graphiqlRoute(html: string): RequestHandler {
  return (req, res, next) => {
    if (req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) !== 'text/html') return next();
    res.type('html').send(html);
  };
}
