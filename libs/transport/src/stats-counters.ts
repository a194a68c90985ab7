import Redis from 'ioredis';
import { statsKey } from '@outlet/contracts';

/*
 * Inference statistics, counted across every gateway and node: one Redis hash per model version,
 * incremented (HINCRBY) by whichever process saw the event, fire and forget — never on a task's
 * answer path. The gateway renders them as Triton's statistics extension and as Prometheus metrics.
 *
 * Fields (integers; durations in ns):
 * - gateway (synchronous /infer): `success_count`/`success_ns` (request received → answered),
 *   `fail_count`/`fail_ns` (timeouts, enqueue errors), `compute_input_*` (received → enqueued),
 *   `compute_output_*` (decided → answered);
 * - trunk worker (every task, however submitted): `inference_count`, `execution_count`,
 *   `queue_*` (enqueued → taken), `compute_infer_*` (taken → decided), `exit:<i>:<worker>`,
 *   `segments_run`, `segments_wasted` (started after the answer), `hand_offs`, `fail_count` (failed
 *   jobs, e.g. malformed), `async_success_*` (tasks nobody waited on: enqueued → decided),
 *   `last_inference` (ms since epoch);
 * - branch worker: `branch:run`, `branch:dropped`, `branch:<outcome>`, `handoff_count`/`handoff_ns`.
 *
 * The counters live in statsKey(model, version) (@outlet/contracts' key map).
 */
/** Field of a per-exit answer count. */
export function exitField(exitIndex: number, worker: 'branch' | 'trunk'): string {
  return `exit:${exitIndex}:${worker}`;
}

/** Milliseconds (fractional) as whole nanoseconds, never negative. */
export function msToNs(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms * 1e6) : 0;
}

/**
 * Add to a model version's counters in one pipelined round trip, not awaited by the caller: a
 * failure to count is dropped (statistics are never worth failing or delaying a task for).
 */
export function countStats(redis: Redis, model: string, version: string, increments: Record<string, number>, set?: Record<string, number>): void {
  const key = statsKey(model, version);
  const pipe = redis.pipeline();
  for (const [field, by] of Object.entries(increments)) {
    if (Number.isFinite(by) && by !== 0) pipe.hincrby(key, field, Math.round(by));
  }
  if (set) for (const [field, value] of Object.entries(set)) pipe.hset(key, field, String(value));
  if (pipe.length === 0) return;
  pipe.exec().catch(() => undefined);
}

/** Every model version's counters as numbers (absent hashes are empty): one read per model, each in its model's slot. */
export async function readStats(redis: Redis, versions: { model: string; version: string }[]): Promise<Record<string, number>[]> {
  const hashes = await Promise.all(versions.map((v) => redis.hgetall(statsKey(v.model, v.version))));
  return hashes.map((hash) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(hash ?? {})) out[k] = Number(v);
    return out;
  });
}
