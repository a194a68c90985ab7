import { Placement } from '@outlet/contracts';

export const PLAN_TABLE_FILE = 'plans.json';

/**
 * The plan table for a trunk execution provider: `plans.json` for cpu, `plans-<ep>.json` for an
 * accelerator (segment times, and so the best plans, differ by provider).
 */
export function planTableFile(trunkEp: string): string {
  return trunkEp === 'cpu' ? PLAN_TABLE_FILE : `plans-${trunkEp}.json`;
}

/** One row of a plan table: the plan to use while the node's CPU utilization is at most `cpu_util_max`. */
export interface PlanTableRow {
  cpu_util_max: number;
  /** The utilization the plan was computed for (the bucket's centre). */
  cpu_util: number;
  plan: Placement[];
  expected_ms: number;
  /** Expected latency of the presets at the same utilization (the planner writes these; optional). */
  presets_ms?: { serial: number; parallel: number; full: number };
}

/** The planner's output stored in the model package: plans by CPU utilization bucket. */
export interface PlanTable {
  model: string;
  created_at: string;
  /** How the table was computed (statistics mode, answer timing, search); optional. */
  method?: string;
  rows: PlanTableRow[];
}

/** The row for utilization `u` (rows sorted by cpu_util_max; the last covers the rest). */
export function planForUtilization(table: PlanTable, u: number): PlanTableRow {
  return table.rows.find((r) => u <= r.cpu_util_max) ?? table.rows[table.rows.length - 1];
}
