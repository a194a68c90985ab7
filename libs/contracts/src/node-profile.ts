import { NodeProfileView } from './schema/node-view';
import { NodeProfileStatus } from './schema/node-status';

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
