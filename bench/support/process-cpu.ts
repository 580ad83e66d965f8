/**
 * CPU time of OS processes, read from outside (Linux /proc): what a benchmark's child used,
 * every thread included (libuv's pool, GC), without the child's cooperation. The capacity
 * plan (docs/capacity.md) divides it by the orders a module handled: per-instance rates on a
 * shared two-core machine mean little, CPU-seconds per order carry over to other machines.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;

/** The kernel's clock ticks per second (utime and stime are counted in them). */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100; // Linux's USER_HZ everywhere it runs here
    }
  }
  return ticks;
}

/** /proc/<pid>/stat's fields after the command (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone, or no /proc
  }
}

/** CPU seconds (user + system, all threads) process `pid` has used so far; undefined once it has gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  const f = statFields(pid);
  // After the command: state(0) ppid(1) … utime(11) stime(12), per proc(5).
  return f ? (Number(f[11]) + Number(f[12])) / clockTicksPerSecond() : undefined;
}

/** `pid` and every process whose parent it is (PostgreSQL's backends under its postmaster), one level down. */
export function withChildren(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      if (Number(statFields(Number(entry))?.[1]) === pid) children.push(Number(entry));
    }
  } catch {
    // no /proc: the process alone
  }
  return [pid, ...children];
}

/**
 * CPU seconds of a group of processes (a server and its workers) from now on: processes that
 * start later (new PostgreSQL backends) are found at each reading; processes that end take
 * their time with them, so a reading is a lower bound.
 */
export function cpuMeter(pidsOf: () => number[]): { read(): number } {
  const base = new Map<number, number>();
  for (const pid of pidsOf()) base.set(pid, cpuSecondsOf(pid) ?? 0);
  return {
    read() {
      let sum = 0;
      for (const pid of pidsOf()) sum += (cpuSecondsOf(pid) ?? base.get(pid) ?? 0) - (base.get(pid) ?? 0);
      return sum;
    },
  };
}
