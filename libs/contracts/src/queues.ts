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

/** Redis key of a task's input values (binary FP32), written by the gateway beside the task's job. */
export function inputKey(taskId: string): string {
  return `outlet:input:${taskId}`;
}

/** How long a task's input waits for a trunk worker (a task queued longer fails for want of it). */
export const INPUT_TTL_MS = 24 * 3_600_000;

/** Redis key of a feature handed from trunk to branch (binary value with a TTL). */
export function featureKey(taskId: string, exitIndex: number): string {
  return `outlet:feature:${taskId}:${exitIndex}`;
}

/**
 * Redis key of a task's answer. The first exit decision to set it (SET NX) is the answer; it also
 * tells branch workers that a task is answered, so its queued subjobs are dropped.
 */
export function answerKey(taskId: string): string {
  return `outlet:answer:${taskId}`;
}

/** Pub/sub channel of branch answers for one node's trunk workers: the trunk stops on hearing one. */
export function earlyExitChannel(nodeId: string): string {
  return `outlet:early-exit:${nodeId}`;
}

/** Pub/sub channel on which workers hand a task's answer (or failure) to the gateway waiting for it. */
export function answerChannel(gatewayId: string): string {
  return `outlet:answers:${gatewayId}`;
}

/** Sorted set of live nodes (score = last heartbeat, ms since epoch). */
export const NODES_KEY = 'outlet:nodes';

/** How long a feature or an answer lives in Redis; long enough for any queued subjob. */
export const HANDOFF_TTL_MS = 60_000;

/** BullMQ job names. */
export const JobName = {
  Infer: 'infer',
  ExitHead: 'exit-head',
} as const;
