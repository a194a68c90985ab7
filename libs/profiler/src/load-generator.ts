import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { readCpuTimes, utilizationBetween } from '@outlet/edge-node';

/**
 * Holds the machine's cores at a target background CPU utilization u (0..1) by duty cycling: one
 * worker thread per core, each spinning for u×period and then sleeping (1−u)×period. Each worker
 * starts at a random phase so the busy windows of the cores do not line up.
 */

// The worker's code, run with `eval` so it needs no file of its own in dist/.
// ctl[0]: target utilization in millionths; ctl[1]: 1 once stopping.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.sab);
const period = workerData.periodMs;
let next = performance.now() + Math.random() * period;
Atomics.wait(ctl, 1, 0, Math.max(0, next - performance.now()));
let sink = 0;
while (Atomics.load(ctl, 1) === 0) {
  const u = Atomics.load(ctl, 0) / 1e6;
  const start = next;
  next = start + period;
  const busyEnd = start + u * period;
  while (performance.now() < busyEnd) sink = (sink * 1103515245 + 12345) | 0;
  const idle = next - performance.now();
  if (idle > 0) Atomics.wait(ctl, 1, 0, idle);
  else next = performance.now(); // fell behind (preempted): restart the period now
}
`;

export interface LoadGeneratorOptions {
  /** Busy loops to run (one per core by default). */
  threads?: number;
  /** Duty-cycle period in ms (10 by default). */
  periodMs?: number;
}

export class LoadGenerator {
  private workers: Worker[] = [];
  private readonly ctl = new Int32Array(new SharedArrayBuffer(8));
  readonly threads: number;
  readonly periodMs: number;
  private level = 0;

  constructor(options: LoadGeneratorOptions = {}) {
    this.threads = options.threads ?? cpus().length;
    this.periodMs = options.periodMs ?? 10;
  }

  /** The current target utilization. */
  get target(): number {
    return this.level;
  }

  /** Start (or retarget) the load at utilization u; u = 0 stops the workers. */
  start(u: number): void {
    if (!(u >= 0 && u <= 1)) throw new Error(`utilization must be between 0 and 1, got ${u}`);
    this.level = u;
    if (u === 0) {
      this.stop();
      return;
    }
    Atomics.store(this.ctl, 0, Math.round(u * 1e6));
    if (this.workers.length > 0) return;
    Atomics.store(this.ctl, 1, 0);
    for (let i = 0; i < this.threads; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab: this.ctl.buffer, periodMs: this.periodMs } });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Stop all busy loops and wait for the workers to end. */
  async stopAndWait(): Promise<void> {
    const workers = this.workers;
    this.stop();
    await Promise.all(
      workers.map((w) => {
        w.ref(); // an unref'd worker would not keep the process alive while we wait for its exit
        return new Promise((resolve) => w.once('exit', resolve));
      }),
    );
  }

  stop(): void {
    this.level = 0;
    Atomics.store(this.ctl, 1, 1);
    Atomics.notify(this.ctl, 1);
    this.workers = [];
  }
}

/** Machine-wide CPU utilization over the next `ms` milliseconds, from /proc/stat. */
export async function measureUtilization(ms: number): Promise<number> {
  const a = readCpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  return utilizationBetween(a, readCpuTimes());
}
