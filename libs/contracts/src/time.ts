import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one host. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
