import { HardwareFingerprint } from '@outlet/contracts';
import { Placement } from '@outlet/contracts';

export const PLAN_TABLE_FILE = 'plans.json';

/**
 * The plan table for a trunk execution provider: `plans.json` for cpu, `plans-<ep>.json` for an
 * accelerator (segment times, and so the best plans, differ by provider).
 */
export function planTableFile(trunkEp: string): string {
  return trunkEp === 'cpu' ? PLAN_TABLE_FILE : `plans-${trunkEp}.json`;
}

/** One number per preset. */
export interface PresetValues {
  serial: number;
  parallel: number;
  full: number;
}

/**
 * One row of a plan table: the plan to use while the node's CPU utilization is at most
 * `cpu_util_max`. `plan` minimizes expected latency (no backlog); `backlog_plan`, when present,
 * maximizes throughput while tasks wait for the trunk. Every field after `expected_ms` is optional
 * (older tables lack them): predictions a benchmark can compare with measured means.
 */
export interface PlanTableRow {
  cpu_util_max: number;
  /** The utilization the plan was computed for (the bucket's centre). */
  cpu_util: number;
  plan: Placement[];
  /** Predicted expected latency of `plan`, ms. */
  expected_ms: number;
  /** Predicted tasks/s of `plan` under a backlog. */
  tasks_per_s?: number;
  /** Expected latency of the presets at the same utilization. */
  presets_ms?: PresetValues;
  /** Predicted tasks/s of the presets under a backlog. */
  presets_tasks_per_s?: PresetValues;
  /** The plan with the highest predicted throughput under a backlog, its tasks/s and its expected latency. */
  backlog_plan?: Placement[];
  backlog_tasks_per_s?: number;
  backlog_expected_ms?: number;
}

/** The planner's output stored in the model package: plans by CPU utilization bucket. */
export interface PlanTable {
  model: string;
  created_at: string;
  /** How the table was computed (statistics mode, answer timing, search); optional. */
  method?: string;
  /** The hardware its stage times were measured on (absent in tables made before fingerprints). */
  hardware?: HardwareFingerprint;
  rows: PlanTableRow[];
}

/** The row for utilization `u` (rows sorted by cpu_util_max; the last covers the rest). */
export function planForUtilization(table: PlanTable, u: number): PlanTableRow {
  return table.rows.find((r) => u <= r.cpu_util_max) ?? table.rows[table.rows.length - 1];
}

/** The plan chosen for one task (see planFor). */
export interface PlanChoice {
  plan: Placement[];
  /** Predicted expected latency of `plan`, ms. */
  expected_ms: number;
  /** Predicted tasks/s of `plan` under a backlog, when the table has it. */
  tasks_per_s?: number;
  /** `throughput` when the row's backlog plan was taken, else `latency`. */
  objective: 'latency' | 'throughput';
}

/**
 * The plan for utilization `cpuUtil`: with a backlog of tasks waiting for the trunk, the row's
 * throughput plan; without one (or when the table has no backlog plan), its latency plan.
 */
export function planFor(table: PlanTable, cpuUtil: number, backlog: boolean): PlanChoice {
  const row = planForUtilization(table, cpuUtil);
  if (backlog && row.backlog_plan) {
    return {
      plan: row.backlog_plan,
      expected_ms: row.backlog_expected_ms ?? row.expected_ms,
      ...(row.backlog_tasks_per_s !== undefined ? { tasks_per_s: row.backlog_tasks_per_s } : {}),
      objective: 'throughput',
    };
  }
  return { plan: row.plan, expected_ms: row.expected_ms, ...(row.tasks_per_s !== undefined ? { tasks_per_s: row.tasks_per_s } : {}), objective: 'latency' };
}
