import { echoText } from './echo';

/** Where an early exit head runs for one task. */
export type Placement = 'branch' | 'trunk' | 'skip';
export const PLACEMENTS: readonly Placement[] = ['branch', 'trunk', 'skip'];

/** Named plans; `auto` asks the planner (when the model has a plan table). */
export const PLAN_PRESETS = ['serial', 'parallel', 'full', 'auto'] as const;
export type PlanPreset = (typeof PLAN_PRESETS)[number];

/** One placement per early exit (the final exit always runs inline on the trunk). */
export type Plan = Placement[];

export class PlanError extends Error {}

/** What a plan must look like (a preset, or a comma list of placements), whatever the model. */
export const PLAN_PATTERN = `^\\s*(${PLAN_PRESETS.join('|')}|(${PLACEMENTS.join('|')})(\\s*,\\s*(${PLACEMENTS.join('|')}))*)\\s*$`;

/** Why `text` is no plan: its first word that is neither a preset nor a placement. */
export function unknownPlacementMessage(text: string): string {
  const unknown = text.split(',').map((p) => p.trim()).find((p) => !(PLACEMENTS as readonly string[]).includes(p)) ?? text;
  return `unknown plan or placement '${echoText(unknown)}': use ${PLAN_PRESETS.join(', ')} or a comma list of ${PLACEMENTS.join('|')}`;
}

/**
 * Parse `serial` | `parallel` | `full` | `branch,trunk,skip,...` into one placement per early
 * exit. `auto` is resolved by the caller, which knows the node's load.
 */
export function parsePlan(text: string, earlyExitCount: number): Plan {
  const spec = text.trim();
  if (spec === 'serial') return Array(earlyExitCount).fill('trunk');
  if (spec === 'parallel') return Array(earlyExitCount).fill('branch');
  if (spec === 'full') return Array(earlyExitCount).fill('skip');
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.some((p) => !(PLACEMENTS as readonly string[]).includes(p))) throw new PlanError(unknownPlacementMessage(spec));
  if (parts.length !== earlyExitCount) {
    throw new PlanError(
      `plan '${echoText(spec)}' has ${parts.length} placement(s) but the model has ${earlyExitCount} early exit(s)`,
    );
  }
  return parts as Plan;
}

export function formatPlan(plan: Plan): string {
  return plan.join(',');
}
