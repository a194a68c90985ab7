"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.nnls = nnls;
exports.leastSquares = leastSquares;
/**
 * Non-negative least squares (Lawson & Hanson, 1974): minimize ||A·x − b|| subject to x ≥ 0.
 * A is given by rows; sizes here are small (tens to hundreds of rows, a handful of columns).
 */
function nnls(rows, b, maxIterations) {
    var _a, _b;
    if (maxIterations === void 0) { maxIterations = 500; }
    var n = (_b = (_a = rows[0]) === null || _a === void 0 ? void 0 : _a.length) !== null && _b !== void 0 ? _b : 0;
    if (n === 0)
        return [];
    // Scale columns to unit norm so FLOPs (1e8) and constants (1) are comparable; unscale at the end.
    var scale = Array.from({ length: n }, function (_, j) { return Math.sqrt(rows.reduce(function (s, r) { return s + r[j] * r[j]; }, 0)) || 1; });
    var A = rows.map(function (r) { return r.map(function (v, j) { return v / scale[j]; }); });
    var x = new Array(n).fill(0);
    var passive = new Array(n).fill(false);
    var tol = 1e-12 * Math.max(1, Math.sqrt(b.reduce(function (s, v) { return s + v * v; }, 0)));
    var gradient = function () {
        var r = A.map(function (row, i) { return b[i] - row.reduce(function (s, v, j) { return s + v * x[j]; }, 0); });
        return Array.from({ length: n }, function (_, j) { return A.reduce(function (s, row, i) { return s + row[j] * r[i]; }, 0); });
    };
    for (var iter = 0; iter < maxIterations; iter++) {
        var w = gradient();
        var best = -1;
        for (var j = 0; j < n; j++)
            if (!passive[j] && w[j] > tol && (best < 0 || w[j] > w[best]))
                best = j;
        if (best < 0)
            break;
        passive[best] = true;
        var _loop_1 = function (inner) {
            var idx = passive.map(function (p, j) { return (p ? j : -1); }).filter(function (j) { return j >= 0; });
            var z = leastSquares(A.map(function (row) { return idx.map(function (j) { return row[j]; }); }), b);
            var zFull = new Array(n).fill(0);
            idx.forEach(function (j, k) { return (zFull[j] = z[k]); });
            if (idx.every(function (j) { return zFull[j] > 0; })) {
                for (var j = 0; j < n; j++)
                    x[j] = zFull[j];
                return "break";
            }
            // Step back towards x until a passive variable hits zero, and drop it.
            var alpha = 1;
            for (var _i = 0, idx_1 = idx; _i < idx_1.length; _i++) {
                var j = idx_1[_i];
                if (zFull[j] <= 0)
                    alpha = Math.min(alpha, x[j] / (x[j] - zFull[j]));
            }
            for (var j = 0; j < n; j++)
                x[j] += alpha * (zFull[j] - x[j]);
            for (var _c = 0, idx_2 = idx; _c < idx_2.length; _c++) {
                var j = idx_2[_c];
                if (x[j] <= 1e-15) {
                    x[j] = 0;
                    passive[j] = false;
                }
            }
        };
        for (var inner = 0; inner < maxIterations; inner++) {
            var state_1 = _loop_1(inner);
            if (state_1 === "break")
                break;
        }
    }
    return x.map(function (v, j) { return v / scale[j]; });
}
/** Unconstrained least squares by the normal equations with a tiny ridge (columns pre-scaled). */
function leastSquares(A, b) {
    var _a, _b;
    var _c, _d;
    var n = (_d = (_c = A[0]) === null || _c === void 0 ? void 0 : _c.length) !== null && _d !== void 0 ? _d : 0;
    var M = Array.from({ length: n }, function (_, i) { return Array.from({ length: n }, function (_, j) { return A.reduce(function (s, r) { return s + r[i] * r[j]; }, 0) + (i === j ? 1e-10 : 0); }); });
    var v = Array.from({ length: n }, function (_, i) { return A.reduce(function (s, r, k) { return s + r[i] * b[k]; }, 0); });
    // Gaussian elimination with partial pivoting.
    for (var c = 0; c < n; c++) {
        var p = c;
        for (var r = c + 1; r < n; r++)
            if (Math.abs(M[r][c]) > Math.abs(M[p][c]))
                p = r;
        _a = [M[p], M[c]], M[c] = _a[0], M[p] = _a[1];
        _b = [v[p], v[c]], v[c] = _b[0], v[p] = _b[1];
        var d = M[c][c] || 1e-300;
        for (var r = c + 1; r < n; r++) {
            var f = M[r][c] / d;
            for (var k = c; k < n; k++)
                M[r][k] -= f * M[c][k];
            v[r] -= f * v[c];
        }
    }
    var x = new Array(n).fill(0);
    for (var r = n - 1; r >= 0; r--) {
        var s = v[r];
        for (var k = r + 1; k < n; k++)
            s -= M[r][k] * x[k];
        x[r] = s / (M[r][r] || 1e-300);
    }
    return x;
}
