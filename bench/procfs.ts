/**
 * What the kernel knows about a process: CPU time and peak resident memory, read from /proc
 * (proc(5)). CPU time is the robust figure on a shared 2-core machine: requests/s is bounded by
 * the load generator, while utime+stime per request barely moves with foreign load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`); utime and stime in /proc/<pid>/stat are in ticks. */
export const CLOCK_TICKS_PER_SECOND = readClockTicks();

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100; // the value on every Linux architecture Node supports
  }
}

/** utime+stime of every thread of the process (GC, libuv pool and zlib included), in ms. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // proc(5): field 2 (comm) is in parentheses and may itself contain spaces and ')': split after the last ')'.
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime), counted from 1 with pid and comm as fields 1 and 2.
  const utime = Number(afterComm[14 - 3]);
  const stime = Number(afterComm[15 - 3]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Peak resident set size (VmHWM) in MB, or undefined when the process is gone. */
export function peakRssMb(pid: number): number | undefined {
  const kb = statusFieldKb(pid, 'VmHWM');
  return kb === undefined ? undefined : kb / 1024;
}

/** Current resident set size (VmRSS) in MB. */
export function rssMb(pid: number): number | undefined {
  const kb = statusFieldKb(pid, 'VmRSS');
  return kb === undefined ? undefined : kb / 1024;
}

function statusFieldKb(pid: number, field: string): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}

/**
 * Resets the peak RSS so the next reading is the peak of one row, not of the process's life.
 * proc(5) /proc/<pid>/clear_refs: "5" resets VmHWM (Linux ≥ 4.0). Returns false where the
 * kernel refuses; the row then reports the peak since start, which is an upper bound.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Busy CPU time of the whole machine (all cores), in ms, from the first line of /proc/stat. */
export function machineBusyCpuMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // proc(5): cpu user nice system idle iowait irq softirq steal guest guest_nice. Guest time is
  // already counted in user and nice, so it is left out; idle and iowait are not busy.
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busyTicks = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return (busyTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}
