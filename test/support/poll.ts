import assert from 'node:assert/strict';

/** Poll until `count()` is 0; the time it took (ms), or a failure naming `what` after `timeoutMs`. */
export async function untilZero(what: string, count: () => Promise<number>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const n = await count();
    if (n === 0) return Date.now() - started;
    assert.ok(Date.now() - started < timeoutMs, `${n} ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Until no job of `queue` is waiting or running: counts taken after it change only by new jobs. */
export async function untilIdle(queue: { getJobCounts(...types: string[]): Promise<Record<string, number>> }, timeoutMs = 15_000): Promise<void> {
  const inFlight = async () => Object.values(await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active')).reduce((a, b) => a + b, 0);
  await untilZero('job(s) still waiting or running', inFlight, timeoutMs);
}
