"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.HEARTBEAT_TTL_MS = exports.HEARTBEAT_INTERVAL_MS = void 0;
exports.nodeStatusKey = nodeStatusKey;
/** Redis key of a node's status, written by its trunk worker with a TTL (a heartbeat). */
function nodeStatusKey(nodeId) {
    return "outlet:node:".concat(nodeId);
}
exports.HEARTBEAT_INTERVAL_MS = 2000;
exports.HEARTBEAT_TTL_MS = 10000;
