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
exports.progressBar = progressBar;
exports.parseLevels = parseLevels;
exports.parsePositiveInt = parsePositiveInt;
var cli_progress_1 = require("cli-progress");
/** A progress bar on stderr (silent when stderr is not a terminal, except a final line). */
function progressBar(title) {
    var bar = new cli_progress_1.SingleBar({ format: "".concat(title, " [{bar}] {percentage}% {value}/{total} {label}"), hideCursor: true, stream: process.stderr, noTTYOutput: false }, cli_progress_1.Presets.shades_classic);
    var started = false;
    return {
        update: function (done, total, label) {
            if (!started) {
                bar.start(total, done, { label: label });
                started = true;
            }
            else
                bar.update(done, { label: label });
        },
        stop: function () {
            if (started)
                bar.stop();
        },
    };
}
/** Parse a comma list of utilization levels in 0..1. */
function parseLevels(text) {
    var levels = text.split(',').map(function (s) { return Number(s.trim()); });
    if (levels.length === 0 || levels.some(function (u) { return !(u >= 0 && u <= 1); }))
        throw new Error("--levels must be numbers from 0 to 1, got '".concat(text, "'"));
    return __spreadArray([], new Set(levels), true).sort(function (a, b) { return a - b; });
}
function parsePositiveInt(name) {
    return function (text) {
        var v = Number(text);
        if (!Number.isInteger(v) || v < 1)
            throw new Error("".concat(name, " must be a positive integer, got '").concat(text, "'"));
        return v;
    };
}
