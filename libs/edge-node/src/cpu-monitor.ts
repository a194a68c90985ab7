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

/**
 * Samples the node's CPU utilization from /proc/stat every `intervalMs` and smooths it with an
 * exponential moving average, so one busy tick does not flip the plan.
 */
export class CpuMonitor {
  private last?: { busy: number; total: number };
  private smoothed?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly intervalMs = 250,
    /** Weight of the newest sample in the moving average. */
    private readonly alpha = 0.3,
  ) {}

  start(): this {
    this.last = readCpuTimes();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const now = readCpuTimes();
    if (this.last) {
      const u = utilizationBetween(this.last, now);
      this.smoothed = this.smoothed === undefined ? u : this.alpha * u + (1 - this.alpha) * this.smoothed;
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
