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
exports.ZOO_FAMILIES = void 0;
exports.generateZoo = generateZoo;
exports.splitIds = splitIds;
var onnx_cost_1 = require("@outlet/onnx-cost");
/** Caps that keep every zoo model cheap to write, hold and run: weights and activations. */
var MAX_PARAMS = 2000000;
var MAX_ELEMENTS = 2000000;
exports.ZOO_FAMILIES = ['conv', 'conv-pool', 'pool', 'eltwise', 'fc', 'matmul', 'head'];
function generateZoo(options) {
    var count = options.count, seed = options.seed, _a = options.minMflop, minMflop = _a === void 0 ? 0.05 : _a, _b = options.maxMflop, maxMflop = _b === void 0 ? 500 : _b;
    var rand = (0, onnx_cost_1.seededRandom)(seed);
    var pick = function (xs) { return xs[Math.floor(rand() * xs.length)]; };
    var clampInt = function (v, lo, hi) { return Math.max(lo, Math.min(Math.floor(hi), Math.round(v))); };
    var models = [];
    var _loop_1 = function (i) {
        // Families in turn (so each is represented), target FLOPs log-uniform.
        var family = exports.ZOO_FAMILIES[i % exports.ZOO_FAMILIES.length];
        var target = Math.exp(Math.log(minMflop) + rand() * (Math.log(maxMflop) - Math.log(minMflop))) * 1e6;
        var w = new onnx_cost_1.OnnxWriter({ seed: seed * 1000 + i });
        var desc = '';
        var y = void 0;
        switch (family) {
            case 'conv': {
                var hw = pick([7, 14, 28, 56]);
                var k = pick([1, 3, 3, 5]);
                var stride = pick([1, 1, 2]);
                var dilation = k > 1 && rand() < 0.2 ? 2 : 1;
                var layers = pick([1, 1, 2, 3]);
                var out = Math.ceil(hw / stride);
                var depthwise = k > 1 && rand() < 0.2;
                // FLOPs ≈ 2·out²·(Cin/g)·k²·Cout per layer: pick channels around the target's square root.
                var square = Math.sqrt(target / layers / (2 * out * out * k * k));
                var cin = rand() < 0.2 ? pick([1, 3]) : clampInt(square * Math.pow(2, rand() * 2 - 1), 2, 512);
                var cout = clampInt(target / layers / (2 * out * out * cin * k * k), 2, 512);
                if (depthwise) {
                    cin = clampInt(target / layers / (2 * out * out * k * k), 2, 1024);
                    cout = cin;
                }
                y = w.input('input', [-1, cin, hw, hw]);
                for (var l = 0; l < layers; l++) {
                    var group = depthwise ? cin : 1;
                    var lin = l === 0 ? cin : cout;
                    y = w.relu(w.conv(y, { outChannels: depthwise ? lin : cout, kernel: k, stride: l === 0 ? stride : 1, pad: 'same', dilation: dilation, group: group }));
                }
                desc = "".concat(layers, "\u00D7 conv ").concat(cin, "\u2192").concat(cout, " k").concat(k, " s").concat(stride, " d").concat(dilation).concat(depthwise ? ' depthwise' : '', " @").concat(hw);
                break;
            }
            case 'conv-pool': {
                var hw = pick([14, 28, 56]);
                var k = pick([3, 5]);
                var cin = clampInt(Math.sqrt(target / (2 * hw * hw * k * k)) * Math.pow(2, rand() * 2 - 1), 1, 256);
                var cout = clampInt(target / (2 * hw * hw * cin * k * k), 2, 512);
                var pool = pick(['max', 'avg']);
                var pk = pick([2, 3]);
                y = w.input('input', [-1, cin, hw, hw]);
                y = w.relu(w.conv(y, { outChannels: cout, kernel: k, pad: Math.floor(k / 2) }));
                y = pool === 'max' ? w.maxPool(y, { kernel: pk, stride: 2 }) : w.averagePool(y, { kernel: pk, stride: 2 });
                desc = "conv ".concat(cin, "\u2192").concat(cout, " k").concat(k, " @").concat(hw, " + ").concat(pool, "pool k").concat(pk);
                break;
            }
            case 'pool': {
                var hw = pick([28, 56, 112]);
                var pk = pick([2, 3, 5]);
                var stride = pick([1, 2]);
                var c = clampInt(target / (Math.pow(hw / stride, 2) * pk * pk), 1, MAX_ELEMENTS / (hw * hw));
                var pool = pick(['max', 'avg']);
                y = w.input('input', [-1, c, hw, hw]);
                y = pool === 'max' ? w.maxPool(y, { kernel: pk, stride: stride }) : w.averagePool(y, { kernel: pk, stride: stride });
                if (rand() < 0.5)
                    y = w.globalAveragePool(y);
                desc = "".concat(pool, "pool k").concat(pk, " s").concat(stride, " on ").concat(c, "\u00D7").concat(hw, "\u00B2");
                break;
            }
            case 'eltwise': {
                var hw = pick([14, 28, 56, 112]);
                // add 1 + relu 1 + sigmoid 4 FLOPs per element
                var c = clampInt(target / (6 * hw * hw), 1, MAX_ELEMENTS / (hw * hw));
                y = w.input('input', [-1, c, hw, hw]);
                var bias = w.randomWeights('bias', [c, 1, 1], 1);
                y = w.relu(w.add(y, bias));
                y = w.node('Sigmoid', [y])[0];
                desc = "add+relu+sigmoid on ".concat(c, "\u00D7").concat(hw, "\u00B2");
                break;
            }
            case 'fc': {
                var fin_1 = clampInt(Math.exp(Math.log(64) + rand() * Math.log(16384 / 64)), 16, 32768);
                var hidden = clampInt(target / (2 * fin_1), 8, MAX_PARAMS / fin_1);
                var classes = pick([10, 100, 1000]);
                var c = pick([1, 4, 16].filter(function (d) { return fin_1 % d === 0; }));
                var side = Math.sqrt(fin_1 / c);
                y = Number.isInteger(side) ? w.flatten(w.input('input', [-1, c, side, side])) : w.input('input', [-1, fin_1]);
                y = w.relu(w.gemm(y, hidden));
                y = w.softmax(w.gemm(y, classes));
                desc = "fc ".concat(fin_1, "\u2192").concat(hidden, "\u2192").concat(classes);
                break;
            }
            case 'matmul': {
                var rows = pick([1, 8, 32, 128]);
                var k = pick([64, 128, 256, 512, 1024]);
                var n = clampInt(target / (2 * rows * k), 4, MAX_PARAMS / k);
                y = w.input('input', [1, rows, k]);
                y = w.relu(w.matmul(y, n));
                desc = "matmul [".concat(rows, ",").concat(k, "]\u00D7[").concat(k, ",").concat(n, "] + relu");
                break;
            }
            default: {
                // An exit-head-like block.
                var hw = pick([3, 7, 14, 28]);
                var cin = pick([8, 16, 32, 64, 128]);
                var classes = pick([10, 100]);
                if (rand() < 0.5) {
                    var cout = clampInt(target / (2 * hw * hw * cin * 9), 4, 1024);
                    y = w.input('input', [-1, cin, hw, hw]);
                    y = w.relu(w.conv(y, { outChannels: cout, kernel: 3, pad: 1 }));
                    y = w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), classes));
                    desc = "head conv ".concat(cin, "\u2192").concat(cout, " k3 @").concat(hw, " + gap + fc\u2192").concat(classes);
                }
                else {
                    var pooled = hw >= 14 ? (cin * hw * hw) / 4 : cin * hw * hw;
                    var hidden = clampInt(target / (2 * pooled), 8, MAX_PARAMS / pooled);
                    y = w.input('input', [-1, cin, hw, hw]);
                    y = w.relu(w.gemm(w.flatten(w.maxPool(y, { kernel: hw >= 14 ? 2 : 1 })), hidden));
                    y = w.softmax(w.gemm(y, classes));
                    desc = "head maxpool + fc ".concat(cin, "\u00D7").concat(hw, "\u00B2\u2192").concat(hidden, "\u2192").concat(classes);
                }
            }
        }
        w.output(y);
        models.push({ id: "zoo-".concat(String(i).padStart(3, '0')), family: family, description: desc, bytes: w.encode() });
    };
    for (var i = 0; i < count; i++) {
        _loop_1(i);
    }
    return models;
}
/** A fixed-seed split into fit and held-out ids (Fisher–Yates shuffle). */
function splitIds(ids, holdoutShare, seed) {
    var _a;
    var rand = (0, onnx_cost_1.seededRandom)(seed ^ 0x9e3779b9);
    var order = __spreadArray([], ids, true);
    for (var i = order.length - 1; i > 0; i--) {
        var j = Math.floor(rand() * (i + 1));
        _a = [order[j], order[i]], order[i] = _a[0], order[j] = _a[1];
    }
    var nHold = Math.round(order.length * holdoutShare);
    return { holdout: new Set(order.slice(0, nHold)), fit: new Set(order.slice(nHold)) };
}
