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
exports.scenarioTable = scenarioTable;
exports.checkTargets = checkTargets;
exports.targetsTable = targetsTable;
exports.chartSvg = chartSvg;
var cdf_chart_1 = require("./cdf-chart");
var f = function (v, digits) {
    if (digits === void 0) { digits = 2; }
    return (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
};
/** A perf_analyzer-style table of one scenario. */
function scenarioTable(s) {
    var lines = [];
    lines.push("Scenario ".concat(s.name, ": background load ").concat(Math.round(s.backgroundLoad * 100), " % (measured ").concat(Math.round(s.measuredLoad * 100), " %), oracle plan ").concat(s.oracle.plan));
    var header = ['strategy', 'load pattern', 'n', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s', 'accuracy', 'exits', 'wasted seg', 'plan used'];
    var rows = [];
    for (var _i = 0, _a = s.strategies; _i < _a.length; _i++) {
        var st = _a[_i];
        for (var _b = 0, _c = __spreadArray(__spreadArray([], st.runs, true), (st.inProcess ? [st.inProcess] : []), true); _b < _c.length; _b++) {
            var r = _c[_b];
            rows.push([
                st.strategy,
                r.pattern,
                String(r.latency.n) + (r.errors ? " (".concat(r.errors, " err)") : ''),
                f(r.latency.meanMs),
                f(r.latency.p50Ms),
                f(r.latency.p90Ms),
                f(r.latency.p99Ms),
                f(r.throughputPerS, 1),
                "".concat((r.accuracy * 100).toFixed(1), " %"),
                r.exits.join('/'),
                f(r.wastedSegmentsMean),
                Object.keys(r.plans).length === 1 ? Object.keys(r.plans)[0] : Object.entries(r.plans).map(function (_a) {
                    var p = _a[0], n = _a[1];
                    return "".concat(p, "\u00D7").concat(n);
                }).join(' '),
            ]);
        }
    }
    var widths = header.map(function (h, i) { return Math.max.apply(Math, __spreadArray([h.length], rows.map(function (r) { return r[i].length; }), false)); });
    var fmt = function (r) { return r.map(function (c, i) { return c.padEnd(widths[i]); }).join('  '); };
    lines.push(fmt(header));
    lines.push(widths.map(function (w) { return '-'.repeat(w); }).join('  '));
    rows.forEach(function (r) { return lines.push(fmt(r)); });
    lines.push("system overhead (end-to-end p50 \u2212 in-process p50, c=1): ".concat(s.strategies.map(function (st) { return "".concat(st.strategy, " ").concat(f(st.overheadP50Ms), " ms"); }).join(', ')));
    if (s.abortReactionMs)
        lines.push("abort reaction beyond the work in flight: p50 ".concat(f(s.abortReactionMs.p50Ms, 3), " ms, p99 ").concat(f(s.abortReactionMs.p99Ms, 3), " ms (n=").concat(s.abortReactionMs.n, ")"));
    if (s.handoffMs)
        lines.push("trunk \u2192 branch hand-off (feature in the branch worker's hands): p50 ".concat(f(s.handoffMs.p50Ms, 3), " ms, p99 ").concat(f(s.handoffMs.p99Ms, 3), " ms (n=").concat(s.handoffMs.n, ")"));
    return lines.join('\n');
}
/** The targets, as ratios from the same run. */
function checkTargets(scenarios) {
    var checks = [];
    var _loop_1 = function (s) {
        var mean = function (name) { var _a, _b, _c; return (_c = (_b = (_a = s.strategies.find(function (x) { return x.strategy === name; })) === null || _a === void 0 ? void 0 : _a.runs.find(function (r) { return r.pattern === 'closed c=1'; })) === null || _b === void 0 ? void 0 : _b.latency.meanMs) !== null && _c !== void 0 ? _c : NaN; };
        var auto = mean('auto');
        var ratio = function (name) { return mean(name) / auto; };
        checks.push({ scenario: s.name, target: 'auto ≥ 1.25× faster than serial (mean, c=1)', measured: "".concat(f(ratio('serial')), "\u00D7"), met: ratio('serial') >= 1.25 });
        checks.push({ scenario: s.name, target: 'auto ≥ 1.6× faster than full (mean, c=1)', measured: "".concat(f(ratio('full')), "\u00D7"), met: ratio('full') >= 1.6 });
        var vsOracle = auto / mean('oracle');
        checks.push({ scenario: s.name, target: 'auto ≤ 5 % slower than oracle (mean, c=1)', measured: "".concat(f((vsOracle - 1) * 100, 1), " %"), met: vsOracle <= 1.05 });
        var worstOverhead = Math.max.apply(Math, s.strategies.map(function (x) { var _a; return (_a = x.overheadP50Ms) !== null && _a !== void 0 ? _a : NaN; }));
        checks.push({ scenario: s.name, target: 'system overhead p50 ≤ 1.5 ms (c=1, worst strategy)', measured: "".concat(f(worstOverhead), " ms"), met: worstOverhead <= 1.5 });
        if (s.abortReactionMs) {
            checks.push({ scenario: s.name, target: 'abort reaction p99 ≤ 1 ms beyond the segment in flight', measured: "".concat(f(s.abortReactionMs.p99Ms, 3), " ms"), met: s.abortReactionMs.p99Ms <= 1 });
        }
    };
    for (var _i = 0, scenarios_1 = scenarios; _i < scenarios_1.length; _i++) {
        var s = scenarios_1[_i];
        _loop_1(s);
    }
    return checks;
}
function targetsTable(checks) {
    return checks.map(function (c) { return "".concat(c.met ? 'MET   ' : 'MISSED', "  ").concat(c.scenario.padEnd(8), " ").concat(c.target.padEnd(58), " ").concat(c.measured); }).join('\n');
}
function chartSvg(scenarios, model) {
    var panels = scenarios.map(function (s) { return ({
        title: "".concat(model, ", ").concat(s.name, " (load ").concat(Math.round(s.backgroundLoad * 100), " %), c=1"),
        series: s.strategies.map(function (st) { return ({ name: st.strategy, valuesMs: st.latenciesC1Ms }); }),
    }); });
    return (0, cdf_chart_1.cdfChartSvg)(panels);
}
