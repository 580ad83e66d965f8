import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

const loads = (values: readonly number[]) => values.map((l) => Math.round(l * 100) / 100);

/**
 * What a benchmark ran on, for its JSON: figures from a shared, noisy machine only mean
 * something beside the load it carried. `loadAtStart` is loadavg() taken when the run began.
 */
export function describeMachine(loadAtStart: readonly number[]) {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    loadAverageAtStart: loads(loadAtStart),
    loadAverageAtEnd: loads(loadavg()),
  };
}
