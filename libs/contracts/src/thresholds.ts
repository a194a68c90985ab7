// Live exit thresholds, audits and the fleet's one tuner per model (accuracy under drift).
// WARNING: these keys are wire contracts between processes of different versions, like queues.ts.

/** Audit records kept per model version (the tuner's longest window). */
export const AUDIT_RECORDS_KEPT = 4_000;
/** Threshold changes kept per model version. */
export const THRESHOLD_HISTORY_KEPT = 200;

/** A threshold above any probability: the exit never answers (the tuner's safe end when nothing else holds). */
export const EXIT_OFF = 2;

/** A model version's thresholds as every worker of the fleet uses them now. */
export interface LiveThresholds {
  /** 1 for the offline calibration; +1 on every change of `thresholds`. */
  version: number;
  /** One per exit (the final exit's is not used: it always answers). */
  thresholds: number[];
  /** The share of answered tasks audited now (raised for a while when agreement falls). */
  auditRate: number;
  /** Per early exit: the share of the tasks reaching it that leave there at these thresholds, from the audit window (absent until measured). */
  exitProbabilities?: number[];
  /** Wall clock (ms) of the last change. */
  updatedAt: number;
  /** Audit records older than this (ms) describe other data (agreement fell since): the tuner's window starts here. */
  windowSince: number;
  /** Why these thresholds (one line). */
  reason: string;
}

/** What one audited task showed: every exit's decision beside the final exit's. */
export interface AuditRecord {
  taskId: string;
  nodeId: string;
  /** Wall clock (ms) when the audit finished. */
  at: number;
  /** The thresholds version the task was answered with. */
  thresholdVersion: number;
  /** The exit that answered the task. */
  answerExit: number;
  /** Per exit (the last one is the final exit): max softmax probability and its label index. */
  exits: { confidence: number; label: number }[];
}

/** Statistics of an audit window at some thresholds. */
export interface WindowStats {
  /** Records in the window. */
  records: number;
  /** Share of them whose answer at these thresholds agrees with the final exit. */
  agreement: number;
  /** One-sided Wilson lower bound of `agreement` (the budget is held against it). */
  lowerBound: number;
  /** Expected latency of a task at these thresholds (ms, from the planner's stage times). */
  expectedMs: number;
  /** Per exit: the share of records answered there. */
  exitShares: number[];
}

/** One entry of a model version's threshold history. */
export interface ThresholdChange {
  version: number;
  at: number;
  thresholds: number[];
  previous: number[];
  auditRate: number;
  /** `raise` (agreement fell), `lower` (agreement holds with room), `start` (offline calibration). */
  kind: 'raise' | 'lower' | 'start';
  reason: string;
  /** The window the decision was made on, at the new thresholds (absent for `start`). */
  window?: WindowStats;
}

/** Whether the exit that answered the task agreed with its final exit. */
export function agreesWithFinal(record: AuditRecord): boolean {
  return record.exits[record.answerExit].label === record.exits[record.exits.length - 1].label;
}
