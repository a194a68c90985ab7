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
exports.cdfChartSvg = cdfChartSvg;
var COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
var W = 520;
var H = 360;
var M = { left: 60, right: 20, top: 40, bottom: 50 };
function escape(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function panel(p, offsetX) {
    var all = p.series.flatMap(function (s) { return s.valuesMs; });
    var maxX = Math.max.apply(Math, __spreadArray([1], all, false)) * 1.05;
    var x = function (v) { return offsetX + M.left + (v / maxX) * (W - M.left - M.right); };
    var y = function (q) { return M.top + (1 - q) * (H - M.top - M.bottom); };
    var parts = [];
    parts.push("<text x=\"".concat(offsetX + W / 2, "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">").concat(escape(p.title), "</text>"));
    parts.push("<rect x=\"".concat(x(0), "\" y=\"").concat(y(1), "\" width=\"").concat(x(maxX) - x(0), "\" height=\"").concat(y(0) - y(1), "\" fill=\"none\" stroke=\"#888\"/>"));
    for (var i = 0; i <= 5; i++) {
        var v = (maxX / 5) * i;
        parts.push("<line x1=\"".concat(x(v), "\" y1=\"").concat(y(0), "\" x2=\"").concat(x(v), "\" y2=\"").concat(y(0) + 5, "\" stroke=\"#888\"/>"));
        parts.push("<text x=\"".concat(x(v), "\" y=\"").concat(y(0) + 18, "\" text-anchor=\"middle\" font-size=\"11\">").concat(v.toFixed(v < 10 ? 1 : 0), "</text>"));
        var q = i / 5;
        parts.push("<line x1=\"".concat(x(0) - 5, "\" y1=\"").concat(y(q), "\" x2=\"").concat(x(maxX), "\" y2=\"").concat(y(q), "\" stroke=\"#eee\"/>"));
        parts.push("<text x=\"".concat(x(0) - 8, "\" y=\"").concat(y(q) + 4, "\" text-anchor=\"end\" font-size=\"11\">").concat(q.toFixed(1), "</text>"));
    }
    parts.push("<text x=\"".concat(offsetX + W / 2, "\" y=\"").concat(H - 10, "\" text-anchor=\"middle\" font-size=\"12\">latency (ms)</text>"));
    parts.push("<text x=\"".concat(offsetX + 16, "\" y=\"").concat(H / 2, "\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 ").concat(offsetX + 16, " ").concat(H / 2, ")\">fraction of requests</text>"));
    p.series.forEach(function (s, i) {
        var sorted = __spreadArray([], s.valuesMs, true).sort(function (a, b) { return a - b; });
        var points = sorted.map(function (v, k) { return "".concat(x(v).toFixed(1), ",").concat(y((k + 1) / sorted.length).toFixed(1)); });
        var color = COLORS[i % COLORS.length];
        if (points.length)
            parts.push("<polyline fill=\"none\" stroke=\"".concat(color, "\" stroke-width=\"2\" points=\"").concat(x(sorted[0]).toFixed(1), ",").concat(y(0), " ").concat(points.join(' '), "\"/>"));
        parts.push("<line x1=\"".concat(x(maxX) - 120, "\" y1=\"").concat(y(0) - 80 - i * 16, "\" x2=\"").concat(x(maxX) - 100, "\" y2=\"").concat(y(0) - 80 - i * 16, "\" stroke=\"").concat(color, "\" stroke-width=\"3\"/>"));
        parts.push("<text x=\"".concat(x(maxX) - 95, "\" y=\"").concat(y(0) - 76 - i * 16, "\" font-size=\"12\">").concat(escape(s.name), "</text>"));
    });
    return parts.join('\n');
}
function cdfChartSvg(panels) {
    var width = W * panels.length;
    return __spreadArray(__spreadArray([
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"".concat(width, "\" height=\"").concat(H, "\" viewBox=\"0 0 ").concat(width, " ").concat(H, "\" font-family=\"sans-serif\">"),
        "<rect width=\"".concat(width, "\" height=\"").concat(H, "\" fill=\"white\"/>")
    ], panels.map(function (p, i) { return panel(p, i * W); }), true), [
        '</svg>',
    ], false).join('\n');
}
