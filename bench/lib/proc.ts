/**
 * What a peer process costs, read from /proc: CPU seconds (user + system, this process and its
 * threads) and resident memory. Linux only, like the rest of the suite.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux the suite runs on

/** CPU seconds (utime + stime) the process has used so far, or NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (comm) may contain spaces: count fields from the closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident set size in MiB (VmRSS), or NaN if the process is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; reports the peak. */
export class RssSampler {
  #peak = 0;
  #timer: NodeJS.Timeout;
  readonly pid: number;
  constructor(pid: number, everyMs = 200) {
    this.pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
    this.#timer.unref();
  }
  #sample(): void {
    const v = rssMiB(this.pid);
    if (v > this.#peak) this.#peak = v;
  }
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peak;
  }
}
