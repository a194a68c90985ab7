import { readFileSync } from 'node:fs';

/** Busy and total jiffies summed over all CPUs, from the first line of /proc/stat. */
export function readCpuTimes(stat = readFileSync('/proc/stat', 'utf8')): { busy: number; total: number } {
  const line = stat.split('\n', 1)[0];
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const idleAll = idle + iowait;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idleAll };
}

/** Utilization between two readings, 0..1 (0 when no time passed). */
export function utilizationBetween(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, (b.busy - a.busy) / total));
}

/** Two /proc/stat readings plus the observing process's own CPU time (ticks) at each. */
export interface CpuReading {
  busy: number;
  total: number;
  own: number;
}

/**
 * The load *beside* the observing process between two readings, 0..1: the share of the CPU time
 * it left over that other processes took. Its own time comes out of busy **and** total, since it
 * was neither free for other work nor someone else's load; with `own` = 0 this is
 * {@link utilizationBetween}, the machine-wide figure the profiler records as `achieved_util`
 * while only its load runs.
 *
 * Taking `own` out of busy alone (as this monitor once did) counts the observer's time as idle:
 * a trunk on the CPU that holds one of two cores would read 0.5 beside a load that fills every
 * other cycle, and a plan switch point above 0.5 would never be reached.
 */
export function utilizationBeside(a: CpuReading, b: CpuReading): number {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  const own = Math.min(total, Math.max(0, b.own - a.own));
  const left = total - own;
  if (left <= 0) return 1; // the observer had every cycle: nothing was left for anyone beside it
  const others = b.busy - a.busy - own;
  return Math.min(1, Math.max(0, others / left));
}

/** /proc/stat counts in USER_HZ ticks: 100 per second on Linux. */
const TICKS_PER_MICROSECOND = 100 / 1e6;

/** CPU time this process has used, in /proc/stat ticks. */
function ownTicks(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * TICKS_PER_MICROSECOND;
}

/** CPU time (utime + stime, ticks) of another process of this host, from /proc/<pid>/stat; 0 when it is gone. */
export function processTicks(pid: number, read = (path: string) => readFileSync(path, 'utf8')): number {
  try {
    const stat = read(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * Samples the node's CPU utilization from /proc/stat every `intervalMs` and smooths it with an
 * exponential moving average, so one busy tick does not flip the plan. With `excludeSelf`, this
 * process's own CPU time is left out of busy and total alike ({@link utilizationBeside}): a trunk
 * worker wants the load *beside* it, on the CPU it leaves to the exit heads, not its own. The
 * processes `excludePids()` names (the node's branch workers) are left out the same way: the
 * heads a plan puts on the CPU are not background load, or a parallel plan would push itself
 * toward serial.
 */
export class CpuMonitor {
  private last?: CpuReading;
  private smoothed?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly options: { intervalMs?: number; alpha?: number; excludeSelf?: boolean; excludePids?: () => number[] } = {},
  ) {}

  start(): this {
    this.last = this.read();
    this.timer = setInterval(() => this.sample(), this.options.intervalMs ?? 250);
    this.timer.unref();
    return this;
  }

  /** Ticks of the excluded processes at the last reading (only a process seen twice counts). */
  private lastExcluded = new Map<number, number>();

  private read(): CpuReading {
    return { ...readCpuTimes(), own: this.options.excludeSelf ? ownTicks() : 0 };
  }

  sample(): number {
    const now = this.read();
    const excluded = new Map((this.options.excludePids?.() ?? []).map((pid) => [pid, processTicks(pid)]));
    let excludedDelta = 0;
    for (const [pid, ticks] of excluded) {
      const before = this.lastExcluded.get(pid);
      if (before !== undefined && ticks >= before) excludedDelta += ticks - before;
    }
    this.lastExcluded = excluded;
    if (this.last) {
      const u = utilizationBeside(this.last, { ...now, own: now.own + excludedDelta });
      const alpha = this.options.alpha ?? 0.3;
      this.smoothed = this.smoothed === undefined ? u : alpha * u + (1 - alpha) * this.smoothed;
    }
    this.last = now;
    return this.smoothed ?? 0;
  }

  /** The smoothed utilization, 0..1. */
  utilization(): number {
    return this.smoothed ?? 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
