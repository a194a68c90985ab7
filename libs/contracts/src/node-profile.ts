import { NodeProfileSource, NodeProfileView } from './schema/node-view';

/** A node's own profile of one model, as its trunk reports it in its status. */
export interface NodeProfileStatus {
  source: NodeProfileSource;
  /** The node is still looking for its own profile or measuring it (or waits for a peer with its fingerprint that does). */
  measuring: boolean;
  /** The node that measured the profile, when and in how many seconds. */
  measuredBy?: string;
  measuredAt?: string;
  measureSeconds?: number;
  /** The plan `auto` picks from the node's table at no CPU load and no backlog, e.g. `branch,trunk`. */
  planAtIdle?: string;
  /** The node's plan table: up to which CPU load each plan holds, alone and with a backlog. */
  plans?: PlanRowSummary[];
  /** When the node last made its plans again from the stage times it observed, and why. */
  replanned?: { at: number; reason: string };
  /** Why the node could not measure (it serves with predicted or shipped plans). */
  error?: string;
}

export interface PlanRowSummary {
  cpuUtilMax: number;
  plan: string;
  backlogPlan: string;
}

export function nodeProfileView(p: NodeProfileStatus): NodeProfileView {
  return {
    source: p.source,
    measuring: p.measuring,
    measured_by: p.measuredBy ?? null,
    measured_at: p.measuredAt ?? null,
    measure_s: p.measureSeconds ?? null,
    plan_at_idle: p.planAtIdle ?? null,
    plans: (p.plans ?? []).map((r) => ({ cpu_util_max: r.cpuUtilMax, plan: r.plan, backlog_plan: r.backlogPlan })),
    replanned: p.replanned ? { at: new Date(p.replanned.at).toISOString(), reason: p.replanned.reason } : null,
    error: p.error ?? null,
  };
}
