/** Graceful stops, as an orchestrator sends them: SIGTERM, then the time until the process has exited. */
import { performance } from 'node:perf_hooks';
import type { DrillWorld } from './world';

export interface Stop {
  readonly process: string;
  readonly exitMs: number;
  readonly code: number | null;
  readonly signal: string | null;
}

/** SIGTERMs instance 0 of `name` and times its exit (the world's kill waits for it). */
export async function terminate(world: DrillWorld, name: string): Promise<Stop> {
  const target = world.processes.get(name)![0]!;
  const t0 = performance.now();
  await world.kill(name, 'SIGTERM');
  const exit = await target.child.exited;
  return { process: name, exitMs: Math.round(performance.now() - t0), code: exit.code, signal: exit.signal };
}
