"use strict";
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.percentile = percentile;
exports.latencyStats = latencyStats;
function percentile(sorted, q) {
    if (sorted.length === 0)
        return NaN;
    var pos = (sorted.length - 1) * q;
    var lo = Math.floor(pos);
    var hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
function latencyStats(values) {
    var sorted = __spreadArray([], values, true).sort(function (a, b) { return a - b; });
    var mean = sorted.reduce(function (a, b) { return a + b; }, 0) / Math.max(1, sorted.length);
    return { n: sorted.length, meanMs: mean, p50Ms: percentile(sorted, 0.5), p90Ms: percentile(sorted, 0.9), p99Ms: percentile(sorted, 0.99) };
}
