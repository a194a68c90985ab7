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
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var node_fs_1 = require("node:fs");
var node_os_1 = require("node:os");
var node_path_1 = require("node:path");
var model_package_1 = require("@outlet/model-package");
var profiler_1 = require("@outlet/profiler");
var predictor_1 = require("@outlet/predictor");
var ROOT = (0, node_path_1.join)(__dirname, '..', '..', '..');
(0, node_test_1.test)('NNLS recovers non-negative coefficients and clamps a negative one to zero', function () {
    var truth = [0.5, 2, 0, 3];
    var rows = [];
    var b = [];
    for (var i = 0; i < 40; i++) {
        var r = [1, (i * 7) % 11, (i * 3) % 5, (i * 13) % 17];
        rows.push(r);
        b.push(r.reduce(function (s, v, j) { return s + v * truth[j]; }, 0));
    }
    (0, predictor_1.nnls)(rows, b).forEach(function (v, j) { return strict_1.default.ok(Math.abs(v - truth[j]) < 1e-6, "coef ".concat(j, ": ").concat(v)); });
    // y = 1 − x: the unconstrained slope is −1, NNLS must give slope 0 and intercept = mean.
    var x = (0, predictor_1.nnls)([[1, 0], [1, 1], [1, 2]], [1, 0, -1]);
    strict_1.default.equal(x[1], 0);
    strict_1.default.ok(Math.abs(x[0] - 0) < 1e-9);
    var ls = (0, predictor_1.leastSquares)([[1, 0], [1, 1], [1, 2]], [1, 0, -1]);
    strict_1.default.ok(Math.abs(ls[1] + 1) < 1e-6);
});
(0, node_test_1.test)('interpolation over utilization is linear between levels and clamped outside', function () {
    var pts = [{ u: 0, value: 1 }, { u: 0.5, value: 2 }, { u: 0.9, value: 6 }];
    strict_1.default.equal((0, profiler_1.interpolateOverUtilization)(pts, 0.25), 1.5);
    strict_1.default.ok(Math.abs((0, profiler_1.interpolateOverUtilization)(pts, 0.7) - 4) < 1e-12);
    strict_1.default.equal((0, profiler_1.interpolateOverUtilization)(pts, -1), 1);
    strict_1.default.equal((0, profiler_1.interpolateOverUtilization)(pts, 1), 6);
});
(0, node_test_1.test)('summary statistics: median and p10/p90', function () {
    var s = (0, profiler_1.summarize)([5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11]);
    strict_1.default.equal(s.median, 6);
    strict_1.default.equal(s.p10, 2);
    strict_1.default.equal(s.p90, 10);
});
function syntheticEntries() {
    // time = 0.02 + 0.01·conv + 0.05·fc + 0.002·ops, ×(1 + u) under load
    var entries = [];
    for (var i = 0; i < 30; i++) {
        var f = [1, (i % 7) * 3, (i % 5) * 0.4, (i % 3) * 0.1, 0.05 * i, 0.3 * (i % 4), 2 + (i % 6)];
        var base = 0.02 + 0.01 * f[1] + 0.05 * f[2] + 0.002 * f[6];
        entries.push({
            id: "m".concat(i), family: 'synthetic', description: '', set: i % 4 === 0 ? 'holdout' : 'fit', features: f, mflop: 0,
            median_ms: { cpu: [base, base * 1.5, base * 2] },
        });
    }
    return entries;
}
(0, node_test_1.test)('fit on synthetic data predicts held-out models exactly, per level, interpolating u', function () {
    var entries = syntheticEntries();
    var levels = [0, 0.5, 1];
    var p = {
        format: 1, created_at: '', threads: 1, feature_names: __spreadArray([], predictor_1.FEATURE_NAMES, true),
        levels: levels,
        models: (0, predictor_1.fitPredictor)(entries, levels, { cpu: [0, 0.5, 1] }),
        zoo: { seed: 1, holdout_share: 0.25, runs: 1, warmup: 0, entries: entries },
    };
    var f = entries[0].features;
    var base = entries[0].median_ms.cpu[0];
    strict_1.default.ok(Math.abs((0, predictor_1.predictMs)(p, 'cpu', f, 0) - base) / base < 1e-6);
    strict_1.default.ok(Math.abs((0, predictor_1.predictMs)(p, 'cpu', f, 0.25) - base * 1.25) / base < 1e-6);
    var rows = (0, predictor_1.evaluatePredictor)(p);
    var all = rows.find(function (r) { return r.ep === 'cpu' && r.cpu_util === 'all'; });
    strict_1.default.equal(all.n, 8 * 3);
    strict_1.default.equal(all.within_10pct, 1);
    strict_1.default.ok(all.mape < 1e-4);
    strict_1.default.throws(function () { return (0, predictor_1.predictMs)(p, 'webgpu', f, 0); }, /no model for execution provider 'webgpu'/);
    strict_1.default.deepEqual((0, predictor_1.refit)(p).evaluation, rows);
});
(0, node_test_1.test)('zoo: deterministic, spans orders of magnitude of FLOPs, every op costed; split is fixed', function () {
    var a = (0, predictor_1.generateZoo)({ count: 14, seed: 5 });
    var b = (0, predictor_1.generateZoo)({ count: 14, seed: 5 });
    strict_1.default.deepEqual(a.map(function (m) { return m.bytes.length; }), b.map(function (m) { return m.bytes.length; }));
    var mflop = a.map(function (m) { return (0, predictor_1.featuresOfModel)(m.bytes).cost.flops / 1e6; });
    strict_1.default.ok(Math.max.apply(Math, mflop) / Math.min.apply(Math, mflop) > 100, "spread ".concat(Math.min.apply(Math, mflop), "..").concat(Math.max.apply(Math, mflop)));
    var ids = a.map(function (m) { return m.id; });
    var s1 = (0, predictor_1.splitIds)(ids, 0.3, 7);
    var s2 = (0, predictor_1.splitIds)(ids, 0.3, 7);
    strict_1.default.deepEqual(__spreadArray([], s1.holdout, true), __spreadArray([], s2.holdout, true));
    strict_1.default.equal(s1.holdout.size + s1.fit.size, ids.length);
    strict_1.default.equal(s1.holdout.size, 4);
});
(0, node_test_1.test)('stageTimes: profile.json where measured (interpolated over u), the predictor elsewhere', function () {
    var dir = (0, node_fs_1.mkdtempSync)((0, node_path_1.join)((0, node_os_1.tmpdir)(), 'outlet-stage-'));
    try {
        (0, node_fs_1.cpSync)((0, node_path_1.join)(ROOT, 'models', 'branchy-mnist'), dir, { recursive: true, filter: function (src) { return !src.endsWith(profiler_1.PROFILE_FILE); } });
        var pkg_1 = (0, model_package_1.loadModelPackage)(dir);
        var coef_1 = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.001];
        var predictor_2 = {
            format: 1, created_at: '', threads: 1, feature_names: __spreadArray([], predictor_1.FEATURE_NAMES, true), levels: [0, 1],
            models: { cpu: [{ cpu_util: 0, achieved_util: 0, coef: coef_1, n: 1 }, { cpu_util: 1, achieved_util: 1, coef: coef_1.map(function (c) { return 2 * c; }), n: 1 }] },
        };
        strict_1.default.throws(function () { return (0, predictor_1.stageTimes)(pkg_1, 'cpu', 0.5); }, /no predictor/);
        var predicted = (0, predictor_1.stageTimes)(pkg_1, 'cpu', 0.5, predictor_2);
        strict_1.default.equal(predicted.source, 'predictor');
        var f = (0, predictor_1.featuresOfModel)((0, node_path_1.join)(dir, 'exit-1.onnx')).features;
        var expected = 1.5 * f.reduce(function (s, v, i) { return s + v * coef_1[i]; }, 0);
        strict_1.default.ok(Math.abs(predicted.branchHeads[0] - expected) < 1e-12);
        strict_1.default.equal(predicted.segments.length, 3);
        var measurements = [];
        for (var _i = 0, _a = ['cpu']; _i < _a.length; _i++) {
            var ep = _a[_i];
            for (var _b = 0, _c = [['segment', 3], ['exit', 3]]; _b < _c.length; _b++) {
                var _d = _c[_b], piece = _d[0], n = _d[1];
                for (var index = 0; index < n; index++) {
                    for (var _e = 0, _f = [0, 0.5]; _e < _f.length; _e++) {
                        var u = _f[_e];
                        var ms = (piece === 'segment' ? 1 : 0.1) * (index + 1) * (1 + u);
                        measurements.push({ piece: piece, index: index, file: '', ep: ep, cpu_util: u, achieved_util: u, median_ms: ms, p10_ms: ms, p90_ms: ms, min_ms: ms, runs: 5 });
                    }
                }
            }
        }
        var profile = { format: 1, model: 'branchy-mnist', eps: ['cpu'], utilization_levels: [0, 0.5], measurements: measurements };
        (0, node_fs_1.writeFileSync)((0, node_path_1.join)(dir, profiler_1.PROFILE_FILE), JSON.stringify(profile));
        strict_1.default.equal((0, profiler_1.profiledTime)(profile, 'segment', 1, 'cpu', 0.25), 2 * 1.25);
        var measured = (0, predictor_1.stageTimes)(pkg_1, 'cpu', 0.25, predictor_2);
        strict_1.default.equal(measured.source, 'profile');
        strict_1.default.deepEqual(measured.segments, [1.25, 2.5, 3.75]);
        strict_1.default.deepEqual(measured.trunkHeads, measured.branchHeads);
        // webgpu is not in the profile: the trunk's pieces fall back to the predictor, which lacks webgpu.
        strict_1.default.throws(function () { return (0, predictor_1.stageTimes)(pkg_1, 'webgpu', 0.25, predictor_2); }, /no model for execution provider 'webgpu'/);
        strict_1.default.equal((0, predictor_1.loadPredictor)((0, node_path_1.join)(dir, 'missing.json')), undefined);
        (0, node_fs_1.writeFileSync)((0, node_path_1.join)(dir, 'p.json'), JSON.stringify(predictor_2));
        strict_1.default.deepEqual((0, predictor_1.loadPredictor)((0, node_path_1.join)(dir, 'p.json')).models, predictor_2.models);
    }
    finally {
        (0, node_fs_1.rmSync)(dir, { recursive: true, force: true });
    }
});
