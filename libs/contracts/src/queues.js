"use strict";
// Queue, key and channel names shared by every process.
// WARNING: these names are the wire contract between gateway and workers of
// different versions; renaming one strands the jobs already in Redis.
Object.defineProperty(exports, "__esModule", { value: true });
exports.JobName = exports.HANDOFF_TTL_MS = exports.NODES_KEY = exports.BRANCH_QUEUE_PREFIX = exports.INFER_QUEUE_PREFIX = void 0;
exports.inferQueueName = inferQueueName;
exports.branchQueueName = branchQueueName;
exports.featureKey = featureKey;
exports.taskDoneKey = taskDoneKey;
exports.earlyExitChannel = earlyExitChannel;
/** The inference queue of one model: tasks taken by the trunk workers of any node. */
function inferQueueName(model) {
    return "outlet-infer-".concat(model);
}
/** The branch queue of one node: exit-head subjobs, only for that node's branch workers. */
function branchQueueName(nodeId) {
    return "outlet-branch-".concat(nodeId);
}
exports.INFER_QUEUE_PREFIX = 'outlet-infer-';
exports.BRANCH_QUEUE_PREFIX = 'outlet-branch-';
/** Redis key of a feature handed from trunk to branch (binary value with a TTL). */
function featureKey(taskId, exitIndex) {
    return "outlet:feature:".concat(taskId, ":").concat(exitIndex);
}
/** Redis key set by the trunk when a task has its answer: pending branch subjobs are dropped. */
function taskDoneKey(taskId) {
    return "outlet:done:".concat(taskId);
}
/** Pub/sub channel of early-exit events for one node (branch worker → trunk worker). */
function earlyExitChannel(nodeId) {
    return "outlet:early-exit:".concat(nodeId);
}
/** Sorted set of live nodes (score = last heartbeat, ms since epoch). */
exports.NODES_KEY = 'outlet:nodes';
/** How long a feature or a done-flag lives in Redis; long enough for any queued subjob. */
exports.HANDOFF_TTL_MS = 60000;
/** BullMQ job names. */
exports.JobName = {
    Infer: 'infer',
    ExitHead: 'exit-head',
};
