/**
 * A CPU profile of the benchmark's own process, for finding where its time goes:
 * `BENCH_CPU_PROFILE=<folder>` writes `<folder>/<name>-<time>.cpuprofile` (open it in Chrome
 * DevTools or speedscope) when the benchmark ends, passed or not. Taken through the inspector
 * rather than `--cpu-prof`, which writes nothing when vitest ends its worker by a signal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export interface CpuProfile {
  /** Writes the profile (once) and returns its path; undefined when profiling is off. */
  stop(): Promise<string | undefined>;
}

export async function startCpuProfile(name: string, folder = process.env.BENCH_CPU_PROFILE): Promise<CpuProfile> {
  if (!folder) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  let written: string | undefined;
  return {
    async stop() {
      if (written) return written;
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      mkdirSync(folder, { recursive: true });
      written = join(folder, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      writeFileSync(written, JSON.stringify(profile));
      return written;
    },
  };
}
