/**
 * Where the stage times behind a node's plans for a model come from:
 * - `measured`: this node profiled the package (quick protocol) since it started;
 * - `stored`: a node with the same fingerprint did, read from Redis;
 * - `cache`: this node's local cache (a profile it or a peer measured earlier);
 * - `shipped`: the package's own profile.json, measured on this fingerprint;
 * - `predicted`: the kernel-level predictor (while the node measures, or when it could not).
 */
export type NodeProfileSource = 'measured' | 'stored' | 'cache' | 'shipped' | 'predicted';

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

/** A node's profile of a model as GET /v1/nodes shows it. */
export interface NodeProfileView {
  source: NodeProfileSource;
  measuring: boolean;
  measured_by: string | null;
  measured_at: string | null;
  measure_s: number | null;
  plan_at_idle: string | null;
  plans: { cpu_util_max: number; plan: string; backlog_plan: string }[];
  replanned: { at: string; reason: string } | null;
  error: string | null;
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
