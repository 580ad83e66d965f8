import type { RequestHandler } from 'express';

export interface HealthCheck {
  readonly name: string;
  /** Resolves true when the dependency answers; false or a rejection means down. */
  readonly check: () => Promise<boolean>;
}

/** How long one probe may take before the dependency counts as down. */
const PROBE_TIMEOUT_MS = 2000;

async function probe(check: HealthCheck['check']): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health: 200 `{status:'ok'}` when every dependency answers, else 503 naming those that do not. */
export function healthRoute(checks: readonly HealthCheck[], isStopping: () => boolean): RequestHandler {
  return async (_req, res) => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await probe(c.check)] as const));
    const down = results.filter(([, ok]) => !ok).map(([name]) => name);
    if (isStopping()) down.push('stopping');
    res.status(down.length === 0 ? 200 : 503).json(down.length === 0 ? { status: 'ok' } : { status: 'unavailable', down });
  };
}
