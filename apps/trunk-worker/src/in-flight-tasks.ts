import { Injectable } from '@nestjs/common';

/**
 * The tasks this trunk has taken and not finished (the heartbeat reports them; a drain waits for
 * them; audits run only while there are none).
 */
@Injectable()
export class InFlightTasks {
  private count = 0;
  private idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  async track<T>(task: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await task();
    } finally {
      this.count--;
      if (this.count === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /** Resolves when no task is in flight (at once if none is). */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
