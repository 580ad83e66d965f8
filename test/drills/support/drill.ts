/**
 * The steps every drill shares: a world (and servers of its own) set up before and removed
 * after; the bounded load with one fault fired at the k-th acknowledged order; the audit, the
 * figures printed and written, and the verdict. A drill file keeps only its fault and its own
 * checks.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect } from 'vitest';
import { auditDrill, report, type AuditOptions, type AuditResult } from './audit';
import { runLoad, type LoadOptions, type LoadResult } from './load';
import { DRILL_RATE_LIMITS, startDrillWorld, type DrillWorld, type DrillWorldOptions } from './world';

/** Something a drill starts before its world and removes after it (a broker, a FerretDB, a proxy). */
export interface Removable {
  remove(): Promise<void>;
}

/**
 * Registers the drill's beforeAll/afterAll: `servers` first (their addresses may shape the
 * world's options), then the world; on the way out the world first, then the servers in
 * reverse. Returns a getter for the world (set once beforeAll has run).
 */
export function drillWorld<S extends Record<string, Removable>>(
  drill: string,
  setup: { servers?: () => Promise<S>; options?: (servers: S) => DrillWorldOptions } = {},
): { world: () => DrillWorld; servers: () => S } {
  let world: DrillWorld | undefined;
  let servers: S | undefined;
  const started: Removable[] = [];
  beforeAll(async () => {
    servers = setup.servers ? await setup.servers() : ({} as S);
    started.push(...Object.values(servers));
    world = await startDrillWorld(drill, setup.options?.(servers) ?? {});
  });
  afterAll(async () => {
    await world?.stop();
    for (const s of started.reverse()) await s.remove().catch(() => undefined);
  });
  return {
    world: () => world ?? (() => { throw new Error(`the world of drill ${drill} is not started`); })(),
    servers: () => servers ?? (() => { throw new Error(`the servers of drill ${drill} are not started`); })(),
  };
}

export interface FaultedLoad<T> {
  readonly load: LoadResult;
  /** What the fault returned. */
  readonly fault: T;
  /** performance.now() when the fault's work ended (the broker back, the process restarted…). */
  readonly faultEndedAt: number;
}

/**
 * The bounded load, with `fault` fired once `at` orders have been acknowledged; resolves when
 * both the load and the fault are done. A fault that never fired is an error: the drill tested nothing.
 */
export async function loadWithFault<T>(world: DrillWorld, options: Omit<LoadOptions, 'graphqlUrl' | 'onAcknowledged'> & { at: number; fault: () => Promise<T> }): Promise<FaultedLoad<T>> {
  const { at, fault, ...load } = options;
  let running: Promise<{ value: T; endedAt: number }> | undefined;
  const result = await runLoad({
    graphqlUrl: world.graphqlUrl,
    ...load,
    onAcknowledged: (n) => {
      if (n === at) running = fault().then((value) => ({ value, endedAt: performance.now() }));
    },
  });
  if (!running) throw new Error(`the fault never fired: only ${result.orders.filter((o) => o.id).length} orders were acknowledged (fault at ${at})`);
  const { value, endedAt } = await running;
  return { load: result, fault: value, faultEndedAt: endedAt };
}

/** Seconds between two performance.now() readings, to a tenth. */
export const secondsBetween = (from: number, to: number): number => Math.round((to - from) / 100) / 10;

/**
 * The audit, then the figures (the audit's, the drill's own, and the time from `recoveredFrom`
 * until everything settled) printed and written to .local/drills/<drill>.json, then the
 * verdict: the audit's problems and the drill's own must both be empty.
 */
export async function auditAndReport(
  world: DrillWorld,
  load: LoadResult,
  drill: {
    figures?: Record<string, unknown>;
    problems?: readonly string[];
    /** The drill's checks of the state after the audit (readiness once settled…). */
    afterAudit?: (result: AuditResult) => Promise<readonly string[]>;
    recoveredFrom?: number;
    audit?: AuditOptions;
  } = {},
): Promise<AuditResult> {
  const result = await auditDrill(world, load, drill.audit);
  const problems = [...(drill.problems ?? []), ...result.problems, ...((await drill.afterAudit?.(result)) ?? [])];
  const recovery = drill.recoveredFrom === undefined ? {} : { timeToRecoverSeconds: secondsBetween(drill.recoveredFrom, result.settledAt) };
  report(world.drill, { ...result.figures, ...drill.figures, ...recovery, rateLimits: DRILL_RATE_LIMITS }, problems);
  expect(problems).toEqual([]);
  return result;
}
