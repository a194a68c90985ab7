"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.toOipResponse = toOipResponse;
var contracts_1 = require("@outlet/contracts");
var inference_1 = require("@outlet/inference");
var round = function (ms) { return Math.round(ms * 1000) / 1000; };
/** An Open Inference Protocol v2 response for a finished task; `parameters` tell what happened. */
function toOipResponse(result, totalMs, labels) {
    var _a, _b;
    var probabilities = (_b = (_a = result.outputs[0]) === null || _a === void 0 ? void 0 : _a.data) !== null && _b !== void 0 ? _b : [];
    var parameters = {
        exit_index: result.exitIndex,
        exit_count: result.exitCount,
        exit_confidence: result.exitConfidence,
        exit_worker: result.exitWorker,
        trunk_ep: result.trunkEp,
        plan: (0, contracts_1.formatPlan)(result.plan),
        plan_source: result.planSource,
        trunk_segments_run: result.trunkSegmentsRun,
        trunk_segments_wasted: result.segmentsAfterAnswer,
        node_id: result.nodeId,
        task_id: result.taskId,
        queue_ms: round(result.timings.queueMs),
        trunk_ms: round(result.timings.trunkMs),
        branch_ms: round(result.timings.branchMs),
        total_ms: round(totalMs),
    };
    if (result.cpuUtil !== undefined)
        parameters.cpu_util = Math.round(result.cpuUtil * 1000) / 1000;
    if (labels && probabilities.length === labels.length)
        parameters.label = labels[(0, inference_1.argMax)(probabilities)];
    return {
        model_name: result.model,
        model_version: result.modelVersion,
        id: result.requestId,
        outputs: result.outputs,
        parameters: parameters,
    };
}
