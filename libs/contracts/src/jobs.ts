export * from './schema/jobs';

/**
 * The trunk worker's own record of a task, for benchmarks and operators (a log line of the task's
 * job); never part of the answer.
 */
export interface TrunkTelemetry {
  /** Segment indices the trunk ran, in order. */
  segmentsRan: number[];
  /** Segments started after the answer had been decided (wasted by a late stop). */
  segmentsAfterAnswer: number;
  /** Exit-head subjobs queued for the branch worker (none for a feature written after the task was answered). */
  handOffs: number;
  /** From taking the task to the trunk stopping. */
  trunkMs: number;
  trunkStoppedAt: number;
  /** The answer's decision time (for a task never started: when it was dropped). */
  decidedAt: number;
  /** For a branch answer: the trunk's stop time beyond the work it had in flight when the branch decided. */
  abortReactionMs?: number;
  /** The worst delay of the trunk worker's event loop while this task ran. */
  eventLoopDelayMaxMs: number;
  /** Set when the task was taken after its deadline and never started (segmentsRan []): ms past it. */
  deadlineExpiredMs?: number;
}

/** What a branch worker completes a subjob with: its own record of what it did. */
export interface BranchResult {
  nodeId: string;
  trunkNodeId: string;
  taskId: string;
  exitIndex: number;
  /**
   * `dropped`: the task already had its answer, the head did not run; `exit`: the head answered
   * the task; `late`: it was confident but another decision had answered first; `continue`: not confident.
   */
  outcome: 'exit' | 'late' | 'continue' | 'dropped';
  confidence?: number;
  headMs?: number;
  /** Time from the trunk's hand-off to the feature being read here. */
  handoffMs?: number;
}
