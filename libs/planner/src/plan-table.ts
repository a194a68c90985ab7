import { PlanTable, PlanTableRow } from '@outlet/model-package';
import { PlanResult } from './search';
import { PlannerError } from './stage-times';

/** Default utilization bucket centres: 0, 0.1, …, 1.0. */
export function utilizationCentres(step = 0.1): number[] {
  if (!(step > 0 && step <= 1)) throw new PlannerError('the utilization step must be in (0, 1]');
  const count = Math.round(1 / step);
  return Array.from({ length: count + 1 }, (_, k) => Math.round(Math.min(1, k * step) * 1e6) / 1e6);
}

/**
 * Bucket upper bounds for sorted centres: halfway between neighbouring centres; the last bucket
 * reaches 1 (planForUtilization also gives the last row to any higher value).
 */
export function bucketBounds(centres: readonly number[]): number[] {
  return centres.map((c, k) => (k + 1 < centres.length ? round((c + centres[k + 1]) / 2) : Math.max(1, c)));
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function rate(tasksPerS: number): number | undefined {
  return Number.isFinite(tasksPerS) ? round(tasksPerS) : undefined;
}

/**
 * A plan table from the plan computed at each utilization centre (`result`: lowest expected
 * latency) and, when given, the throughput plan under a backlog (`backlog`).
 */
export function buildPlanTable(
  model: string,
  results: { cpuUtil: number; result: PlanResult; backlog?: PlanResult }[],
  options: { createdAt?: string; method?: string } = {},
): PlanTable {
  if (results.length === 0) throw new PlannerError('a plan table needs at least one utilization');
  const sorted = [...results].sort((a, b) => a.cpuUtil - b.cpuUtil);
  sorted.forEach((r, k) => {
    if (!(r.cpuUtil >= 0 && r.cpuUtil <= 1)) throw new PlannerError(`utilization ${r.cpuUtil} is not in [0, 1]`);
    if (k > 0 && r.cpuUtil === sorted[k - 1].cpuUtil) throw new PlannerError(`utilization ${r.cpuUtil} appears twice`);
  });
  const bounds = bucketBounds(sorted.map((r) => r.cpuUtil));
  const rows: PlanTableRow[] = sorted.map((r, k) => {
    const row: PlanTableRow = {
      cpu_util_max: bounds[k],
      cpu_util: r.cpuUtil,
      plan: [...r.result.plan],
      expected_ms: round(r.result.expectedMs),
      tasks_per_s: rate(r.result.occupancy.tasksPerS),
      presets_ms: {
        serial: round(r.result.presets.serial),
        parallel: round(r.result.presets.parallel),
        full: round(r.result.presets.full),
      },
    };
    const t = r.result.presetsTasksPerS;
    if ([t.serial, t.parallel, t.full].every(Number.isFinite)) {
      row.presets_tasks_per_s = { serial: round(t.serial), parallel: round(t.parallel), full: round(t.full) };
    }
    if (r.backlog) {
      row.backlog_plan = [...r.backlog.plan];
      row.backlog_tasks_per_s = rate(r.backlog.occupancy.tasksPerS);
      row.backlog_expected_ms = round(r.backlog.expectedMs);
    }
    for (const key of Object.keys(row) as (keyof PlanTableRow)[]) if (row[key] === undefined) delete row[key];
    return row;
  });
  return { model, created_at: options.createdAt ?? new Date().toISOString(), method: options.method, rows };
}
