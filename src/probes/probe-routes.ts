import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * One dependency or part a process needs to do its work. Resolves true when it answers, or
 * false or a short reason (a string) when it does not; a rejection counts as down too.
 */
export interface ProbeCheck {
  readonly name: string;
  readonly check: () => Promise<boolean | string>;
}

/** How long one check may take before its dependency counts as down. */
export const PROBE_TIMEOUT_MS = 2000;

/** A handler for the probe paths: true when it answered the request, false to let another handle it. */
export type ProbeHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** One check's verdict within PROBE_TIMEOUT_MS: null when up, otherwise what to report. */
async function verdict({ name, check }: ProbeCheck): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${name}: no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([check().catch((error: unknown) => (error instanceof Error ? error.message : false)), timeout]);
    if (result === true) return null;
    if (typeof result === 'string' && result !== '') return result.startsWith(`${name}:`) ? result : `${name}: ${result}`;
    return name;
  } finally {
    clearTimeout(timer);
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/**
 * The probes every process serves (the API on its own port, each consumer process on its
 * probe listener):
 * - `GET /livez`: 200 while the process runs; never asks Kafka or MongoDB, so an outage of
 *   theirs never gets a healthy process restarted.
 * - `GET /readyz` (and `/health`, its older name): 200 `{status:'ok'}` when every check
 *   answers and the process is not stopping; otherwise 503 `{status:'unavailable', down}`
 *   naming each problem. A stopping process fails it first, before it closes anything.
 * Other paths are left to the caller (the operations issue adds `/metrics` here).
 */
export function probeRoutes(checks: readonly ProbeCheck[], isStopping: () => boolean): ProbeHandler {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/livez') {
      answer(res, 200, { status: 'ok' });
      return true;
    }
    if (path !== '/readyz' && path !== '/health') return false;
    void Promise.all(checks.map(verdict)).then((verdicts) => {
      const down = verdicts.filter((v): v is string => v !== null);
      if (isStopping()) down.push('stopping');
      answer(res, down.length === 0 ? 200 : 503, down.length === 0 ? { status: 'ok' } : { status: 'unavailable', down });
    });
    return true;
  };
}
