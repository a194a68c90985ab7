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
Object.defineProperty(exports, "__esModule", { value: true });
exports.CpuMonitor = void 0;
exports.readCpuTimes = readCpuTimes;
exports.utilizationBetween = utilizationBetween;
var node_fs_1 = require("node:fs");
/** Busy and total jiffies summed over all CPUs, from the first line of /proc/stat. */
function readCpuTimes(stat) {
    if (stat === void 0) { stat = (0, node_fs_1.readFileSync)('/proc/stat', 'utf8'); }
    var line = stat.split('\n', 1)[0];
    var fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    var user = fields[0], nice = fields[1], system = fields[2], idle = fields[3], _a = fields[4], iowait = _a === void 0 ? 0 : _a, _b = fields[5], irq = _b === void 0 ? 0 : _b, _c = fields[6], softirq = _c === void 0 ? 0 : _c, _d = fields[7], steal = _d === void 0 ? 0 : _d;
    var idleAll = idle + iowait;
    var busy = user + nice + system + irq + softirq + steal;
    return { busy: busy, total: busy + idleAll };
}
/** Utilization between two readings, 0..1 (0 when no time passed). */
function utilizationBetween(a, b) {
    var total = b.total - a.total;
    if (total <= 0)
        return 0;
    return Math.min(1, Math.max(0, (b.busy - a.busy) / total));
}
/** /proc/stat counts in USER_HZ ticks: 100 per second on Linux. */
var TICKS_PER_MICROSECOND = 100 / 1e6;
/** CPU time this process has used, in /proc/stat ticks. */
function ownTicks() {
    var _a = process.cpuUsage(), user = _a.user, system = _a.system;
    return (user + system) * TICKS_PER_MICROSECOND;
}
/**
 * Samples the node's CPU utilization from /proc/stat every `intervalMs` and smooths it with an
 * exponential moving average, so one busy tick does not flip the plan. With `excludeSelf`, this
 * process's own CPU time is left out: a trunk worker wants the load *beside* it, not its own.
 */
var CpuMonitor = /** @class */ (function () {
    function CpuMonitor(options) {
        if (options === void 0) { options = {}; }
        this.options = options;
    }
    CpuMonitor.prototype.start = function () {
        var _this = this;
        var _a;
        this.last = this.read();
        this.timer = setInterval(function () { return _this.sample(); }, (_a = this.options.intervalMs) !== null && _a !== void 0 ? _a : 250);
        this.timer.unref();
        return this;
    };
    CpuMonitor.prototype.read = function () {
        return __assign(__assign({}, readCpuTimes()), { own: this.options.excludeSelf ? ownTicks() : 0 });
    };
    CpuMonitor.prototype.sample = function () {
        var _a, _b;
        var now = this.read();
        if (this.last) {
            var own = Math.max(0, now.own - this.last.own);
            var u = utilizationBetween(this.last, { busy: now.busy - own, total: now.total });
            var alpha = (_a = this.options.alpha) !== null && _a !== void 0 ? _a : 0.3;
            this.smoothed = this.smoothed === undefined ? u : alpha * u + (1 - alpha) * this.smoothed;
        }
        this.last = now;
        return (_b = this.smoothed) !== null && _b !== void 0 ? _b : 0;
    };
    /** The smoothed utilization, 0..1. */
    CpuMonitor.prototype.utilization = function () {
        var _a;
        return (_a = this.smoothed) !== null && _a !== void 0 ? _a : 0;
    };
    CpuMonitor.prototype.stop = function () {
        if (this.timer)
            clearInterval(this.timer);
    };
    return CpuMonitor;
}());
exports.CpuMonitor = CpuMonitor;
