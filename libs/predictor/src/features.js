"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.FEATURE_NAMES = void 0;
exports.featuresOf = featuresOf;
exports.featuresOfModel = featuresOfModel;
var onnx_cost_1 = require("@outlet/onnx-cost");
/**
 * Cost features of one model file (a segment or an exit head), the predictor's regressors:
 * a per-call constant, FLOPs by layer type (MFLOP; a multiply-accumulate counts 2), bytes moved
 * (MB) and the number of operators launched (per-op overhead).
 */
exports.FEATURE_NAMES = ['call', 'conv_mflop', 'fc_mflop', 'pool_mflop', 'other_mflop', 'mbytes', 'ops'];
function featuresOf(cost) {
    var c = cost.byCategory;
    var other = cost.flops - c.conv.flops - c.fc.flops - c.pool.flops;
    return [1, c.conv.flops / 1e6, c.fc.flops / 1e6, c.pool.flops / 1e6, other / 1e6, cost.bytes / 1e6, cost.opCount];
}
/** Features of an ONNX file or its bytes; throws if some op's cost is unknown (it would be counted as 0). */
function featuresOfModel(source) {
    var cost = (0, onnx_cost_1.analyzeModel)(source);
    if (cost.unresolved.length) {
        var what = cost.unknownOps.length ? "unknown op types ".concat(cost.unknownOps.join(', ')) : cost.unresolved.map(function (u) { return "".concat(u.node, ": ").concat(u.problem); }).join('; ');
        throw new Error("cannot cost every node (".concat(what, ")"));
    }
    return { features: featuresOf(cost), cost: cost };
}
