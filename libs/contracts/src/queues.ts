// Queue, key and channel names shared by every process.
// WARNING: these names are the wire contract between gateway and workers of
// different versions; renaming one strands the jobs already in Redis.

/** The inference queue of one model: tasks taken by the trunk workers of any node. */
export function inferQueueName(model: string): string {
  return `outlet-infer-${model}`;
}

/** The branch queue of one node: exit-head subjobs, only for that node's branch workers. */
export function branchQueueName(nodeId: string): string {
  return `outlet-branch-${nodeId}`;
}

/** How long a task's input waits for a trunk worker (a task queued longer fails for want of it). */
export const INPUT_TTL_MS = 24 * 3_600_000;

/** How long a feature or an answer lives in Redis; long enough for any queued subjob. */
export const HANDOFF_TTL_MS = 60_000;

/** BullMQ job names. */
export const JobName = {
  Infer: 'infer',
  ExitHead: 'exit-head',
} as const;
