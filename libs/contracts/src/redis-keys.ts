// Every Redis key, channel and BullMQ queue prefix Outlet uses, in one place.
// WARNING: these names are the wire contract between processes of different versions; renaming one
// strands what is already in Redis.
//
// On a Redis Cluster every key goes to the slot of its hash tag (the text between the first { and
// }): keys that one Lua script, MULTI or pipeline touches together share a tag, and different
// models, nodes and tasks have different tags, so that the masters share the work. One server
// ignores the tags.

/** Tag of a task's own keys (input, features, answer): the branch worker reads the answer and the feature in one MULTI. */
const taskTag = (taskId: string) => `{task:${taskId}}`;
/** Tag of the fleet registry: a trunk's heartbeat writes its status, the node list and reads its drain order in one MULTI. */
const FLEET_TAG = '{fleet}';
/** Tag of a model's thresholds, threshold history, audit records and tuner lease (one script and MULTI per model). */
const modelTag = (model: string) => `{model:${model}}`;

/**
 * The prefix of a BullMQ queue's keys, its name as hash tag: all of one queue's keys in one slot
 * (BullMQ's scripts need that), each queue in its own. Every Queue, Worker and QueueEvents of that
 * name must be given it.
 */
export function queuePrefix(queueName: string): string {
  return `outlet:{${queueName}}`;
}

/** A task's input values (binary FP32), written by the gateway beside the task's job. TTL INPUT_TTL_MS. */
export function inputKey(taskId: string): string {
  return `outlet:${taskTag(taskId)}:input`;
}

/** Whether a job's `inputKey` names an input key (a job from elsewhere may carry anything). */
export function isInputKey(key: unknown): key is string {
  return typeof key === 'string' && /^outlet:\{task:[^}]+\}:input$/.test(key);
}

/** A feature handed from trunk to branch through Redis (binary, TTL HANDOFF_TTL_MS). */
export function featureKey(taskId: string, exitIndex: number): string {
  return `outlet:${taskTag(taskId)}:feature:${exitIndex}`;
}

/**
 * A task's answer. The first exit decision to set it (SET NX) is the answer; it also tells branch
 * workers that a task is answered, so its queued subjobs are dropped. TTL HANDOFF_TTL_MS.
 */
export function answerKey(taskId: string): string {
  return `outlet:${taskTag(taskId)}:answer`;
}

/** A node's status (JSON NodeStatus), written by its trunk worker on every heartbeat; TTL GONE_NODE_KEPT_MS. */
export function nodeStatusKey(nodeId: string): string {
  return `outlet:${FLEET_TAG}:node:${nodeId}`;
}

/** A drain order for a node (set by a gateway, read by the node's trunk on its heartbeat tick). */
export function nodeDrainKey(nodeId: string): string {
  return `outlet:${FLEET_TAG}:node:${nodeId}:drain`;
}

/** Hash of a node's branch workers: field `<hostname>:<pid>`, value a BranchWorkerBeat (JSON). */
export function branchWorkersKey(nodeId: string): string {
  return `outlet:${FLEET_TAG}:node:${nodeId}:branch-workers`;
}

/** Sorted set of live nodes (score = last heartbeat, ms since epoch). */
export const NODES_KEY = `outlet:${FLEET_TAG}:nodes`;

/** A model version's live thresholds (JSON LiveThresholds); a new version starts from its own calibration. */
export function thresholdsKey(model: string, version: string): string {
  return `outlet:${modelTag(model)}:thresholds:${version}`;
}

/** List of a model version's threshold changes (JSON ThresholdChange), newest first, capped. */
export function thresholdHistoryKey(model: string, version: string): string {
  return `outlet:${modelTag(model)}:thresholds:${version}:history`;
}

/** List of a model version's audit records (JSON AuditRecord), newest first, capped. */
export function auditRecordsKey(model: string, version: string): string {
  return `outlet:${modelTag(model)}:audit:${version}`;
}

/** Held (SET NX PX) by the one process that tunes a model version's thresholds for the fleet. */
export function tunerLeaseKey(model: string, version: string): string {
  return `outlet:${modelTag(model)}:tuner:${version}`;
}

/** A model version's inference statistics (hash of counters, see stats-counters.ts). */
export function statsKey(model: string, version: string): string {
  return `outlet:${modelTag(model)}:stats:${version}`;
}

/** A package's profile measured on one hardware fingerprint (JSON StoredProfile), for every node alike. */
export function storedProfileKey(model: string, packageDigest: string, fingerprintId: string): string {
  return `outlet:${modelTag(model)}:profile:${packageDigest}:${fingerprintId}`;
}

/** Held (SET NX PX) by the one node measuring a stored profile; its peers wait for the result. */
export function profileMeasuringKey(model: string, packageDigest: string, fingerprintId: string): string {
  return `${storedProfileKey(model, packageDigest, fingerprintId)}:measuring`;
}

/**
 * Pub/sub channel of branch answers for one node's trunk workers: the trunk stops on hearing one.
 * Classic (cluster-wide) pub/sub, as answerChannel.
 */
export function earlyExitChannel(nodeId: string): string {
  return `outlet:early-exit:${nodeId}`;
}

/**
 * Pub/sub channel on which workers hand a task's answer to the gateway waiting for it. Published
 * inside the claim script, atomically with the answer key's SET NX: a sharded channel (SPUBLISH)
 * would have to hash to the task's slot, while a gateway listens on one channel for all its
 * tasks; classic PUBLISH reaches every node of a cluster.
 */
export function answerChannel(gatewayId: string): string {
  return `outlet:answers:${gatewayId}`;
}

/** The key map docs/operating.md ("Scaling out", key layout) refers to: key, hash tag, who writes it, how long it lives. */
export const REDIS_KEY_MAP: { key: string; tag: string; owner: string; ttl: string }[] = [
  { key: 'outlet:{<queue>}:<queue>:… (BullMQ)', tag: '{<queue>}', owner: 'gateway (infer), trunk (branch subjobs); workers take', ttl: 'OUTLET_JOB_RETENTION finished jobs' },
  { key: inputKey('<task>'), tag: '{task:<task>}', owner: 'gateway', ttl: '24 h (INPUT_TTL_MS), deleted once the task settles' },
  { key: featureKey('<task>', 0).replace(':0', ':<exit>'), tag: '{task:<task>}', owner: 'trunk (OUTLET_FEATURE_TRANSPORT=redis)', ttl: '60 s (HANDOFF_TTL_MS)' },
  { key: answerKey('<task>'), tag: '{task:<task>}', owner: 'the first worker to decide (claim script)', ttl: '60 s' },
  { key: nodeStatusKey('<node>'), tag: FLEET_TAG, owner: 'trunk heartbeat', ttl: '5 min (GONE_NODE_KEPT_MS)' },
  { key: nodeDrainKey('<node>'), tag: FLEET_TAG, owner: 'gateway (POST /v1/nodes/{id}/drain)', ttl: 'until the node leaves' },
  { key: branchWorkersKey('<node>'), tag: FLEET_TAG, owner: 'branch heartbeat', ttl: 'fields pruned when stale' },
  { key: NODES_KEY, tag: FLEET_TAG, owner: 'trunk heartbeat', ttl: 'members pruned after 5 min' },
  { key: thresholdsKey('<model>', '<version>'), tag: '{model:<model>}', owner: 'gateway tuner', ttl: 'none' },
  { key: thresholdHistoryKey('<model>', '<version>'), tag: '{model:<model>}', owner: 'gateway tuner', ttl: 'none (capped list)' },
  { key: auditRecordsKey('<model>', '<version>'), tag: '{model:<model>}', owner: 'trunk audits', ttl: 'none (capped list)' },
  { key: tunerLeaseKey('<model>', '<version>'), tag: '{model:<model>}', owner: 'the tuning gateway', ttl: 'lease' },
  { key: statsKey('<model>', '<version>'), tag: '{model:<model>}', owner: 'gateway, trunk, branch', ttl: 'none' },
  { key: storedProfileKey('<model>', '<digest>', '<fingerprint>'), tag: '{model:<model>}', owner: 'the node that measured it', ttl: 'none' },
  { key: `${storedProfileKey('<model>', '<digest>', '<fingerprint>')}:measuring`, tag: '{model:<model>}', owner: 'the node measuring', ttl: '130 s lock' },
  { key: `${earlyExitChannel('<node>')} (channel)`, tag: '-', owner: 'branch publishes, trunk listens', ttl: '-' },
  { key: `${answerChannel('<gateway>')} (channel)`, tag: '-', owner: 'claim script publishes, gateway listens', ttl: '-' },
];
