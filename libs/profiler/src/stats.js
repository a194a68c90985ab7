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
exports.quantile = quantile;
exports.summarize = summarize;
exports.round = round;
/** Order statistics of a sample of timings. */
function quantile(sorted, q) {
    if (sorted.length === 0)
        return NaN;
    var pos = (sorted.length - 1) * q;
    var lo = Math.floor(pos);
    var hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
function summarize(values) {
    var s = __spreadArray([], values, true).sort(function (a, b) { return a - b; });
    return { median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9), min: s[0], n: s.length };
}
/** Round to `digits` significant digits (keeps JSON files readable). */
function round(x, digits) {
    if (digits === void 0) { digits = 4; }
    if (!Number.isFinite(x) || x === 0)
        return x;
    return Number(x.toPrecision(digits));
}
