import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Router, type Response } from 'express';

export const DASHBOARD_PATH = '/dashboard';

/**
 * The page's own files. tsc compiles only src/, so they are kept as they are in public/ at the
 * project root, the same two folders up from src/http (tests) and from dist/http (the build);
 * the image copies public/ beside dist/ (Dockerfile).
 */
const PAGE_FILES = resolve(__dirname, '..', '..', 'public', 'dashboard');

/** Where a package's own files are, found through its main entry (its exports map hides the rest). */
const packageFile = (entry: string, ...path: string[]) => join(dirname(require.resolve(entry)), ...path);

/**
 * Everything the page loads besides itself, each from a file on this machine: no CDN, so it
 * works offline. The chart library and the graphql-ws client are their packages' own browser
 * builds from node_modules (chart.js: dist/chart.cjs → dist/; graphql-ws: dist/index.cjs → umd/).
 */
const ASSETS: Readonly<Record<string, { readonly file: () => string; readonly type: string }>> = {
  'dashboard.js': { file: () => join(PAGE_FILES, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: () => join(PAGE_FILES, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'chart.umd.min.js': { file: () => packageFile('chart.js', 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
  'graphql-ws.min.js': { file: () => packageFile('graphql-ws', '..', 'umd', 'graphql-ws.min.js'), type: 'text/javascript; charset=utf-8' },
};

/**
 * Only this origin's scripts and styles (no inline code, no eval), requests and WebSockets to
 * this origin only ('self' covers ws: and wss: of the same host), never framed.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface DashboardOptions {
  /** The GraphQL endpoint the page queries and subscribes on (this origin). */
  readonly graphqlPath: string;
  /**
   * A token the page opens with (the development start's demo ADMIN token, like GraphiQL's
   * customer token); null: a person pastes one.
   */
  readonly token: string | null;
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function setHeaders(res: Response, type: string): void {
  res.set({
    'Content-Type': type,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // The page may carry a token: never kept. Assets are revalidated, so a new build shows at once.
    'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
  });
}

/**
 * The live operations dashboard: GET /dashboard and its assets under /dashboard/assets/. The
 * page signs in with an ADMIN or RESTAURANT token and reads everything through GraphQL (the
 * resolvers authorize each figure), so this router serves files only. Files are read once, here.
 */
export function dashboardRoutes(options: DashboardOptions): Router {
  const assets = new Map(Object.entries(ASSETS).map(([name, asset]) => [name, { body: readFileSync(asset.file()), type: asset.type }]));
  const page = readFileSync(join(PAGE_FILES, 'index.html'), 'utf8')
    .replace('{{GRAPHQL_PATH}}', escapeAttribute(options.graphqlPath))
    .replace('{{TOKEN}}', escapeAttribute(options.token ?? ''));
  const router = Router();
  router.get(DASHBOARD_PATH, (_req, res) => {
    setHeaders(res, 'text/html; charset=utf-8');
    res.send(page);
  });
  router.get(`${DASHBOARD_PATH}/assets/:name`, (req, res, next) => {
    const asset = assets.get(req.params.name);
    if (!asset) return next();
    setHeaders(res, asset.type);
    res.send(asset.body);
  });
  return router;
}
