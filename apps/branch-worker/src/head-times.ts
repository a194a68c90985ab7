import { Injectable } from '@nestjs/common';

/** Head runs kept per model and exit between two heartbeats: enough for a median, small in Redis. */
const KEPT_PER_EXIT = 20;

/**
 * The exit heads' run times since the last heartbeat, which carries them to the node's trunk:
 * it compares them with the stage times its plans assume, and re-plans when they drift.
 */
@Injectable()
export class HeadTimes {
  private times: Record<string, Record<number, number[]>> = {};

  record(model: string, exit: number, ms: number): void {
    const list = ((this.times[model] ??= {})[exit] ??= []);
    list.push(Math.round(ms * 1000) / 1000);
    if (list.length > KEPT_PER_EXIT) list.shift();
  }

  /** What was recorded since the last call (undefined when nothing was). */
  take(): Record<string, Record<number, number[]>> | undefined {
    const taken = this.times;
    this.times = {};
    return Object.keys(taken).length ? taken : undefined;
  }
}
