import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { httpRequest } from './http-driver';

/** Where a run's own feature folder goes: shared memory, as the workers' default. */
export function featureRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/** Polls the model's readiness (a live trunk worker's heartbeat names it) until 200 or the deadline. */
export async function waitUntilModelReady(baseUrl: string, model: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const res = await httpRequest('GET', `${baseUrl}/v2/models/${model}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`model '${model}' was not ready within ${timeoutMs / 1000} s`);
}
