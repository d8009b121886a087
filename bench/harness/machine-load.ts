import { readFileSync } from 'node:fs';

/**
 * How much CPU the rest of the machine used while the bench ran: all busy time (/proc/stat)
 * less this process and its reaped children (/proc/self/stat: utime, stime, cutime, cstime).
 * Linux only; elsewhere `undefined`. Every server and load process is a reaped child by the end.
 */
export interface CpuSnapshot {
  readonly machineBusy: number;
  readonly ours: number;
  readonly at: number;
}

const TICKS_PER_SECOND = 100;

export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    // Fields after the command name, which is in parentheses and may hold spaces.
    const own = readFileSync('/proc/self/stat', 'utf8');
    const after = own.slice(own.lastIndexOf(')') + 2).split(' ').map(Number);
    const [utime, stime, cutime, cstime] = after.slice(11, 15);
    return { machineBusy: user + nice + system + irq + softirq + steal, ours: utime + stime + cutime + cstime, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** Cores' worth of CPU used by other processes between two snapshots, on average. */
export function otherCores(start: CpuSnapshot | undefined, end: CpuSnapshot | undefined): number | undefined {
  if (!start || !end) return undefined;
  const seconds = (end.at - start.at) / 1000;
  const others = end.machineBusy - start.machineBusy - (end.ours - start.ours);
  return Math.max(0, others / TICKS_PER_SECOND / seconds);
}
