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
exports.interpolateOverUtilization = interpolateOverUtilization;
/**
 * Linear interpolation over utilization between the two nearest known levels; outside the
 * measured range the nearest level's value is used (no extrapolation).
 */
function interpolateOverUtilization(points, u) {
    if (points.length === 0)
        throw new Error('no levels to interpolate between');
    var p = __spreadArray([], points, true).sort(function (a, b) { return a.u - b.u; });
    if (u <= p[0].u)
        return p[0].value;
    if (u >= p[p.length - 1].u)
        return p[p.length - 1].value;
    for (var i = 1; i < p.length; i++) {
        if (u <= p[i].u) {
            var a = p[i - 1];
            var b = p[i];
            if (b.u === a.u)
                return b.value;
            return a.value + ((u - a.u) / (b.u - a.u)) * (b.value - a.value);
        }
    }
    return p[p.length - 1].value;
}
