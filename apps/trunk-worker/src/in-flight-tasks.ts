import { Injectable } from '@nestjs/common';

/** The tasks this trunk has taken and not finished (the heartbeat reports them; a drain waits for them). */
@Injectable()
export class InFlightTasks {
  private count = 0;

  get size(): number {
    return this.count;
  }

  async track<T>(task: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await task();
    } finally {
      this.count--;
    }
  }
}
