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

/** /proc/stat counts in USER_HZ ticks: 100 per second on Linux. */
const TICKS_PER_MICROSECOND = 100 / 1e6;

/** CPU time this process has used, in /proc/stat ticks. */
function ownTicks(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * TICKS_PER_MICROSECOND;
}

/**
 * Samples the node's CPU utilization from /proc/stat every `intervalMs` and smooths it with an
 * exponential moving average, so one busy tick does not flip the plan. With `excludeSelf`, this
 * process's own CPU time is left out: a trunk worker wants the load *beside* it, not its own.
 */
export class CpuMonitor {
  private last?: { busy: number; total: number; own: number };
  private smoothed?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly options: { intervalMs?: number; alpha?: number; excludeSelf?: boolean } = {},
  ) {}

  start(): this {
    this.last = this.read();
    this.timer = setInterval(() => this.sample(), this.options.intervalMs ?? 250);
    this.timer.unref();
    return this;
  }

  private read() {
    return { ...readCpuTimes(), own: this.options.excludeSelf ? ownTicks() : 0 };
  }

  sample(): number {
    const now = this.read();
    if (this.last) {
      const own = Math.max(0, now.own - this.last.own);
      const u = utilizationBetween(this.last, { busy: now.busy - own, total: now.total });
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
