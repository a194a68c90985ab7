"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
};
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
exports.fitLevel = fitLevel;
exports.dot = dot;
exports.predictMs = predictMs;
exports.fitPredictor = fitPredictor;
exports.evaluatePredictor = evaluatePredictor;
var profiler_1 = require("@outlet/profiler");
var features_1 = require("./features");
var nnls_1 = require("./nnls");
/** Fit one level: NNLS on rows scaled by 1/y (relative error). */
function fitLevel(features, times) {
    var rows = features.map(function (f, i) { return f.map(function (v) { return v / times[i]; }); });
    return (0, nnls_1.nnls)(rows, times.map(function () { return 1; }));
}
function dot(a, b) {
    return a.reduce(function (s, v, i) { return s + v * b[i]; }, 0);
}
/** Predicted ms for features on `ep` at utilization `u` (interpolating between levels). */
function predictMs(predictor, ep, features, u) {
    var levels = predictor.models[ep];
    if (!levels || levels.length === 0) {
        throw new Error("the predictor has no model for execution provider '".concat(ep, "' (it has: ").concat(Object.keys(predictor.models).join(', ') || 'none', ")"));
    }
    return (0, profiler_1.interpolateOverUtilization)(levels.map(function (l) { return ({ u: l.cpu_util, value: dot(l.coef, features) }); }), u);
}
/** Fit per provider and level from zoo entries of the fit set. */
function fitPredictor(entries, levels, achieved) {
    var eps = __spreadArray([], new Set(entries.flatMap(function (e) { return Object.keys(e.median_ms); })), true);
    var models = {};
    var _loop_1 = function (ep) {
        models[ep] = levels.map(function (u, li) {
            var _a, _b;
            var rows = entries.filter(function (e) { var _a; return e.set === 'fit' && typeof ((_a = e.median_ms[ep]) === null || _a === void 0 ? void 0 : _a[li]) === 'number' && e.median_ms[ep][li] > 0; });
            var coef = rows.length ? fitLevel(rows.map(function (e) { return e.features; }), rows.map(function (e) { return e.median_ms[ep][li]; })) : features_1.FEATURE_NAMES.map(function () { return 0; });
            return { cpu_util: u, achieved_util: (_b = (_a = achieved[ep]) === null || _a === void 0 ? void 0 : _a[li]) !== null && _b !== void 0 ? _b : NaN, coef: coef, n: rows.length };
        });
    };
    for (var _i = 0, eps_1 = eps; _i < eps_1.length; _i++) {
        var ep = eps_1[_i];
        _loop_1(ep);
    }
    return models;
}
function metrics(pairs) {
    var ape = pairs.map(function (p) { return Math.abs(p.predicted - p.measured) / p.measured; }).sort(function (a, b) { return a - b; });
    var n = ape.length;
    var share = function (t) { return (n ? ape.filter(function (e) { return e <= t; }).length / n : NaN); };
    return {
        n: n,
        within_10pct: share(0.1),
        within_20pct: share(0.2),
        mape: n ? (100 * ape.reduce(function (a, b) { return a + b; }, 0)) / n : NaN,
        median_ape: n ? 100 * ape[Math.floor((n - 1) / 2)] : NaN,
    };
}
/** Metrics on the held-out entries, per provider and level, and per provider over all levels. */
function evaluatePredictor(predictor, entries) {
    var _a, _b;
    if (entries === void 0) { entries = (_b = (_a = predictor.zoo) === null || _a === void 0 ? void 0 : _a.entries) !== null && _b !== void 0 ? _b : []; }
    var rows = [];
    var _loop_2 = function (ep) {
        var all = [];
        predictor.levels.forEach(function (u, li) {
            var pairs = entries
                .filter(function (e) { var _a; return e.set === 'holdout' && typeof ((_a = e.median_ms[ep]) === null || _a === void 0 ? void 0 : _a[li]) === 'number'; })
                .map(function (e) { return ({ predicted: predictMs(predictor, ep, e.features, u), measured: e.median_ms[ep][li] }); });
            all.push.apply(all, pairs);
            rows.push(__assign({ ep: ep, cpu_util: u }, metrics(pairs)));
        });
        rows.push(__assign({ ep: ep, cpu_util: 'all' }, metrics(all)));
    };
    for (var _i = 0, _c = Object.keys(predictor.models); _i < _c.length; _i++) {
        var ep = _c[_i];
        _loop_2(ep);
    }
    return rows;
}
