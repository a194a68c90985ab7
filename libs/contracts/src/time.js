"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.nowMs = nowMs;
var node_perf_hooks_1 = require("node:perf_hooks");
/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one host. */
function nowMs() {
    return node_perf_hooks_1.performance.timeOrigin + node_perf_hooks_1.performance.now();
}
