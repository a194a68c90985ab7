"use strict";
var __extends = (this && this.__extends) || (function () {
    var extendStatics = function (d, b) {
        extendStatics = Object.setPrototypeOf ||
            ({ __proto__: [] } instanceof Array && function (d, b) { d.__proto__ = b; }) ||
            function (d, b) { for (var p in b) if (Object.prototype.hasOwnProperty.call(b, p)) d[p] = b[p]; };
        return extendStatics(d, b);
    };
    return function (d, b) {
        if (typeof b !== "function" && b !== null)
            throw new TypeError("Class extends value " + String(b) + " is not a constructor or null");
        extendStatics(d, b);
        function __() { this.constructor = d; }
        d.prototype = b === null ? Object.create(b) : (__.prototype = b.prototype, new __());
    };
})();
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
exports.OP_RULES = exports.UNARY_FLOPS = exports.ShapeError = exports.OP_CATEGORIES = void 0;
exports.numel = numel;
exports.tensorBytes = tensorBytes;
exports.broadcastShapes = broadcastShapes;
exports.windowOutput = windowOutput;
var onnx_format_1 = require("./onnx-format");
exports.OP_CATEGORIES = [
    'conv', 'fc', 'pool', 'activation', 'normalization', 'elementwise', 'softmax', 'reduce', 'resize', 'memory', 'free',
];
var ShapeError = /** @class */ (function (_super) {
    __extends(ShapeError, _super);
    function ShapeError() {
        return _super !== null && _super.apply(this, arguments) || this;
    }
    return ShapeError;
}(Error));
exports.ShapeError = ShapeError;
function numel(shape) {
    return shape.reduce(function (a, b) { return a * b; }, 1);
}
function tensorBytes(t) {
    return (t === null || t === void 0 ? void 0 : t.shape) ? numel(t.shape) * t.elemBytes : 0;
}
/** Numpy-style broadcast of several shapes. */
function broadcastShapes() {
    var _a;
    var shapes = [];
    for (var _i = 0; _i < arguments.length; _i++) {
        shapes[_i] = arguments[_i];
    }
    var rank = Math.max.apply(Math, shapes.map(function (s) { return s.length; }));
    var out = [];
    for (var i = 0; i < rank; i++) {
        var d = 1;
        for (var _b = 0, shapes_1 = shapes; _b < shapes_1.length; _b++) {
            var s = shapes_1[_b];
            var v = (_a = s[s.length - rank + i]) !== null && _a !== void 0 ? _a : 1;
            if (v === 1)
                continue;
            if (d !== 1 && d !== v)
                throw new ShapeError("shapes [".concat(shapes.map(function (x) { return x.join(','); }).join('] ['), "] do not broadcast"));
            d = v;
        }
        out.push(d);
    }
    return out;
}
function need(ctx, i) {
    var _a, _b;
    var t = ctx.inputs[i];
    if (!(t === null || t === void 0 ? void 0 : t.shape))
        throw new ShapeError("".concat(ctx.node.opType, ": shape of input ").concat(i, " ('").concat((_b = (_a = ctx.node.input) === null || _a === void 0 ? void 0 : _a[i]) !== null && _b !== void 0 ? _b : '', "') is unknown"));
    return t.shape;
}
function needValue(ctx, i, what) {
    var t = ctx.inputs[i];
    if (!(t === null || t === void 0 ? void 0 : t.value))
        throw new ShapeError("".concat(ctx.node.opType, ": ").concat(what, " (input ").concat(i, ") is not a constant"));
    return t.value;
}
function intAttr(ctx, name, def) {
    var v = ctx.attrs.get(name);
    return typeof v === 'number' ? v : def;
}
function intsAttr(ctx, name) {
    var v = ctx.attrs.get(name);
    return Array.isArray(v) ? v : undefined;
}
function strAttr(ctx, name, def) {
    var v = ctx.attrs.get(name);
    return typeof v === 'string' ? v : def;
}
function like(t, shape, value) {
    return { shape: shape, elemBytes: t.elemBytes, value: value };
}
function normAxis(axis, rank) {
    return axis < 0 ? axis + rank : axis;
}
/**
 * Output size and padding of one spatial axis of a convolution or pooling window, following the
 * ONNX spec: explicit pads, or auto_pad SAME_UPPER/SAME_LOWER (output = ceil(in/stride)) or VALID.
 */
function windowOutput(input, kernel, stride, dilation, padBegin, padEnd, autoPad, ceilMode) {
    if (ceilMode === void 0) { ceilMode = false; }
    var effective = (kernel - 1) * dilation + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')
        return Math.ceil(input / stride);
    if (autoPad === 'VALID')
        return Math.floor((input - effective) / stride) + 1;
    var span = input + padBegin + padEnd - effective;
    var out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
    // With ceil_mode the last window must start inside the input or the begin padding.
    if (ceilMode && (out - 1) * stride >= input + padBegin)
        out -= 1;
    return out;
}
function windowSpec(ctx, spatial, kernel) {
    var _a, _b, _c;
    var strides = (_a = intsAttr(ctx, 'strides')) !== null && _a !== void 0 ? _a : new Array(spatial).fill(1);
    var dilations = (_b = intsAttr(ctx, 'dilations')) !== null && _b !== void 0 ? _b : new Array(spatial).fill(1);
    var pads = (_c = intsAttr(ctx, 'pads')) !== null && _c !== void 0 ? _c : new Array(spatial * 2).fill(0);
    var autoPad = strAttr(ctx, 'auto_pad', 'NOTSET');
    if (kernel.length !== spatial)
        throw new ShapeError("".concat(ctx.node.opType, ": kernel rank ").concat(kernel.length, " does not match ").concat(spatial, " spatial axes"));
    return { kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad };
}
function windowOutputs(inSpatial, w, ceilMode) {
    if (ceilMode === void 0) { ceilMode = false; }
    var n = inSpatial.length;
    return inSpatial.map(function (d, i) {
        return windowOutput(d, w.kernel[i], w.strides[i], w.dilations[i], w.pads[i], w.pads[i + n], w.autoPad, ceilMode);
    });
}
function conv(ctx) {
    var _a, _b;
    var x = need(ctx, 0);
    var w = need(ctx, 1);
    var group = intAttr(ctx, 'group', 1);
    var spatial = x.length - 2;
    var kernel = (_a = intsAttr(ctx, 'kernel_shape')) !== null && _a !== void 0 ? _a : w.slice(2);
    var spec = windowSpec(ctx, spatial, kernel);
    var n = x[0], c = x[1];
    var m = w[0];
    if (w[1] * group !== c)
        throw new ShapeError("Conv: weight [".concat(w.join(','), "] with group ").concat(group, " does not take ").concat(c, " input channels"));
    var outSpatial = windowOutputs(x.slice(2), spec);
    var out = __spreadArray([n, m], outSpatial, true);
    var outElems = numel(out);
    // MACs: every output element sums (Cin/group)·kh·kw products — the patent's W·H·Cin·Cout·kw·kh.
    var macs = outElems * (c / group) * numel(kernel);
    var hasBias = ((_b = ctx.inputs[2]) === null || _b === void 0 ? void 0 : _b.shape) !== undefined;
    return { outputs: [like(ctx.inputs[0], out)], flops: 2 * macs + (hasBias ? outElems : 0), category: 'conv' };
}
function convTranspose(ctx) {
    var _a, _b, _c, _d, _e, _f;
    var x = need(ctx, 0);
    var w = need(ctx, 1);
    var group = intAttr(ctx, 'group', 1);
    var spatial = x.length - 2;
    var kernel = (_a = intsAttr(ctx, 'kernel_shape')) !== null && _a !== void 0 ? _a : w.slice(2);
    var strides = (_b = intsAttr(ctx, 'strides')) !== null && _b !== void 0 ? _b : new Array(spatial).fill(1);
    var dilations = (_c = intsAttr(ctx, 'dilations')) !== null && _c !== void 0 ? _c : new Array(spatial).fill(1);
    var pads = (_d = intsAttr(ctx, 'pads')) !== null && _d !== void 0 ? _d : new Array(spatial * 2).fill(0);
    var outPad = (_e = intsAttr(ctx, 'output_padding')) !== null && _e !== void 0 ? _e : new Array(spatial).fill(0);
    var explicit = intsAttr(ctx, 'output_shape');
    var m = w[1] * group;
    var outSpatial = explicit
        ? explicit.slice(-spatial)
        : x.slice(2).map(function (d, i) { return strides[i] * (d - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial]; });
    var out = __spreadArray([x[0], m], outSpatial, true);
    // Every input element is multiplied into (Cout/group)·kh·kw outputs.
    var macs = numel(x) * (m / group) * numel(kernel);
    var hasBias = ((_f = ctx.inputs[2]) === null || _f === void 0 ? void 0 : _f.shape) !== undefined;
    return { outputs: [like(ctx.inputs[0], out)], flops: 2 * macs + (hasBias ? numel(out) : 0), category: 'conv' };
}
function pool(ctx) {
    var _a, _b;
    var x = need(ctx, 0);
    var kernel = intsAttr(ctx, 'kernel_shape');
    if (!kernel)
        throw new ShapeError("".concat(ctx.node.opType, ": kernel_shape is missing"));
    var spec = windowSpec(ctx, x.length - 2, kernel);
    var out = __spreadArray([x[0], x[1]], windowOutputs(x.slice(2), spec, intAttr(ctx, 'ceil_mode', 0) === 1), true);
    // One FLOP per window element per output element (compare for max, add for average).
    var flops = numel(out) * numel(kernel);
    var outputs = [like(ctx.inputs[0], out)];
    if (((_b = (_a = ctx.node.output) === null || _a === void 0 ? void 0 : _a.length) !== null && _b !== void 0 ? _b : 0) > 1)
        outputs.push({ shape: out, elemBytes: 8 });
    return { outputs: outputs, flops: flops, category: 'pool' };
}
function globalPool(ctx) {
    var x = need(ctx, 0);
    var out = __spreadArray([x[0], x[1]], x.slice(2).map(function () { return 1; }), true);
    return { outputs: [like(ctx.inputs[0], out)], flops: numel(x), category: 'pool' };
}
function gemm(ctx) {
    var _a;
    var a = need(ctx, 0);
    var b = need(ctx, 1);
    if (a.length !== 2 || b.length !== 2)
        throw new ShapeError("Gemm: inputs must be 2-D, got [".concat(a, "] and [").concat(b, "]"));
    if (intAttr(ctx, 'transA', 0))
        a = [a[1], a[0]];
    if (intAttr(ctx, 'transB', 0))
        b = [b[1], b[0]];
    var m = a[0], k = a[1];
    var n = b[1];
    if (b[0] !== k)
        throw new ShapeError("Gemm: inner dimensions ".concat(k, " and ").concat(b[0], " differ"));
    var hasC = ((_a = ctx.inputs[2]) === null || _a === void 0 ? void 0 : _a.shape) !== undefined;
    // Fully connected: Fin×Fout MACs per output row, plus the bias add.
    return { outputs: [like(ctx.inputs[0], [m, n])], flops: 2 * m * k * n + (hasC ? m * n : 0), category: 'fc' };
}
function matmul(ctx) {
    var a0 = need(ctx, 0);
    var b0 = need(ctx, 1);
    var a = a0.length === 1 ? [1, a0[0]] : a0;
    var b = b0.length === 1 ? [b0[0], 1] : b0;
    var _a = a.slice(-2), m = _a[0], k = _a[1];
    var _b = b.slice(-2), k2 = _b[0], n = _b[1];
    if (k !== k2)
        throw new ShapeError("MatMul: inner dimensions ".concat(k, " and ").concat(k2, " differ"));
    var batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
    var out = __spreadArray([], batch, true);
    if (a0.length > 1)
        out.push(m);
    if (b0.length > 1)
        out.push(n);
    return { outputs: [like(ctx.inputs[0], out)], flops: 2 * numel(batch) * m * k * n, category: 'fc' };
}
/** Unary element-wise operators and their nominal FLOPs per element. */
exports.UNARY_FLOPS = {
    Relu: 1, LeakyRelu: 2, PRelu: 2, ThresholdedRelu: 1, Elu: 3, Selu: 3, Celu: 3, Clip: 2,
    Sigmoid: 4, HardSigmoid: 3, HardSwish: 4, Tanh: 4, Softplus: 4, Softsign: 3, Gelu: 8, Mish: 8,
    Exp: 4, Log: 4, Erf: 4, Sin: 4, Cos: 4, Sqrt: 1, Reciprocal: 1, Neg: 1, Abs: 1, Floor: 1,
    Ceil: 1, Round: 1, Sign: 1, Not: 1, IsNaN: 1, IsInf: 1,
};
function unary(ctx) {
    var _a;
    var x = need(ctx, 0);
    var out = x;
    if (ctx.node.opType === 'PRelu')
        out = broadcastShapes(x, need(ctx, 1));
    return { outputs: [like(ctx.inputs[0], out)], flops: numel(out) * exports.UNARY_FLOPS[(_a = ctx.node.opType) !== null && _a !== void 0 ? _a : ''], category: 'activation' };
}
var BINARY_OPS = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'BitShift'];
var COMPARE_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
function arithmetic(op, a, b) {
    switch (op) {
        case 'Add':
        case 'Sum': return a + b;
        case 'Sub': return a - b;
        case 'Mul': return a * b;
        case 'Div': return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
        case 'Max': return Math.max(a, b);
        case 'Min': return Math.min(a, b);
        default: return NaN;
    }
}
function elementwise(ctx) {
    var _a;
    var present = ctx.inputs.filter(function (t) { return t !== undefined; });
    var shapes = ctx.inputs.map(function (_, i) { return need(ctx, i); });
    var out = broadcastShapes.apply(void 0, shapes);
    // n inputs combine with n-1 operations per output element (Mean adds one division).
    var op = (_a = ctx.node.opType) !== null && _a !== void 0 ? _a : '';
    var perElem = Math.max(1, shapes.length - 1) + (op === 'Mean' ? 1 : 0);
    var value;
    if (present.every(function (t) { return t.value; }) && numel(out) <= 64 && out.length <= 1 && present.length === 2) {
        var _b = present.map(function (t) { return t.value; }), a_1 = _b[0], b_1 = _b[1];
        value = Array.from({ length: numel(out) }, function (_, i) { return arithmetic(op, a_1[a_1.length === 1 ? 0 : i], b_1[b_1.length === 1 ? 0 : i]); });
        if (value.some(function (v) { return Number.isNaN(v); }))
            value = undefined;
    }
    var elemBytes = COMPARE_OPS.has(op) ? 1 : present[0].elemBytes;
    return { outputs: [{ shape: out, elemBytes: elemBytes, value: value }], flops: numel(out) * perElem, category: 'elementwise' };
}
function where(ctx) {
    var out = broadcastShapes(need(ctx, 0), need(ctx, 1), need(ctx, 2));
    return { outputs: [like(ctx.inputs[1], out)], flops: numel(out), category: 'elementwise' };
}
function batchNorm(ctx) {
    var x = need(ctx, 0);
    // At inference the statistics fold into one scale and one shift per channel: 2 FLOPs per element.
    return { outputs: [like(ctx.inputs[0], x)], flops: 2 * numel(x), category: 'normalization' };
}
function normalization(perElem) {
    return function (ctx) {
        var x = need(ctx, 0);
        var outputs = [like(ctx.inputs[0], x)];
        return { outputs: outputs, flops: perElem * numel(x), category: 'normalization' };
    };
}
function lrn(ctx) {
    var x = need(ctx, 0);
    var size = intAttr(ctx, 'size', 1);
    return { outputs: [like(ctx.inputs[0], x)], flops: (2 * size + 3) * numel(x), category: 'normalization' };
}
function softmax(ctx) {
    var x = need(ctx, 0);
    // max, subtract, exp, sum, divide: 5 per element (exp nominally 1 here; it is a small share).
    return { outputs: [like(ctx.inputs[0], x)], flops: 5 * numel(x), category: 'softmax' };
}
function reduce(ctx) {
    var _a;
    var x = need(ctx, 0);
    var op = (_a = ctx.node.opType) !== null && _a !== void 0 ? _a : '';
    var axes = intsAttr(ctx, 'axes');
    if (!axes && ctx.inputs[1])
        axes = needValue(ctx, 1, 'axes');
    var isArg = op === 'ArgMax' || op === 'ArgMin';
    if (isArg)
        axes = [intAttr(ctx, 'axis', 0)];
    var keep = intAttr(ctx, 'keepdims', 1) === 1;
    var noopEmpty = intAttr(ctx, 'noop_with_empty_axes', 0) === 1;
    var all = !axes || axes.length === 0;
    if (all && noopEmpty)
        return { outputs: [like(ctx.inputs[0], x)], flops: 0, category: 'reduce' };
    var set = new Set((axes !== null && axes !== void 0 ? axes : x.map(function (_, i) { return i; })).map(function (a) { return normAxis(a, x.length); }));
    var out = [];
    x.forEach(function (d, i) {
        if (!set.has(i))
            out.push(d);
        else if (keep)
            out.push(1);
    });
    var perElem = op === 'ReduceSumSquare' || op === 'ReduceL2' || op === 'ReduceLogSumExp' ? 2 : 1;
    var elemBytes = isArg ? 8 : ctx.inputs[0].elemBytes;
    return { outputs: [{ shape: out, elemBytes: elemBytes }], flops: perElem * numel(x), category: 'reduce' };
}
function resize(ctx) {
    var _a, _b, _c;
    var x = need(ctx, 0);
    var op = (_a = ctx.node.opType) !== null && _a !== void 0 ? _a : '';
    var out;
    // Resize opset 11+: X, roi, scales, sizes; opset 10 Resize and Upsample 9: X, scales; Upsample 7: attr.
    var sizesIndex = op === 'Resize' && ctx.opset >= 11 ? 3 : -1;
    var scalesIndex = op === 'Resize' && ctx.opset >= 11 ? 2 : 1;
    var sizes = sizesIndex > 0 ? (_b = ctx.inputs[sizesIndex]) === null || _b === void 0 ? void 0 : _b.value : undefined;
    var scales = (_c = ctx.inputs[scalesIndex]) === null || _c === void 0 ? void 0 : _c.value;
    if (!scales && op === 'Upsample')
        scales = ctx.attrs.get('scales');
    if (sizes && sizes.length)
        out = sizes;
    else if (scales && scales.length === x.length)
        out = x.map(function (d, i) { return Math.floor(d * scales[i]); });
    if (!out)
        throw new ShapeError("".concat(op, ": neither sizes nor scales are constant"));
    var mode = strAttr(ctx, 'mode', 'nearest');
    var resized = out.filter(function (d, i) { return d !== x[i]; }).length;
    // nearest: a copy (0 FLOPs); linear: 2^d taps weighted and summed (2·2^d − 1); cubic: 4^d taps.
    var perElem = mode === 'nearest' ? 0 : mode === 'cubic' ? 2 * Math.pow(4, resized) : 2 * Math.pow(2, resized) - 1;
    return { outputs: [like(ctx.inputs[0], out)], flops: perElem * numel(out), category: 'resize' };
}
function free(shape, value) {
    return function (ctx) { return ({
        outputs: [like(ctx.inputs[0], shape(ctx), value === null || value === void 0 ? void 0 : value(ctx))],
        flops: 0,
        category: 'free',
    }); };
}
function reshapeShape(ctx) {
    var x = need(ctx, 0);
    var target = ctx.inputs[1] ? needValue(ctx, 1, 'shape') : intsAttr(ctx, 'shape');
    if (!target)
        throw new ShapeError('Reshape: no target shape');
    var allowZero = intAttr(ctx, 'allowzero', 0) === 1;
    var out = target.map(function (d, i) { return (d === 0 && !allowZero ? x[i] : d); });
    var known = out.filter(function (d) { return d !== -1; }).reduce(function (a, b) { return a * b; }, 1);
    var inferred = out.indexOf(-1);
    if (inferred >= 0)
        out[inferred] = numel(x) / known;
    if (numel(out) !== numel(x))
        throw new ShapeError("Reshape: [".concat(x, "] cannot become [").concat(target, "]"));
    return out;
}
function flattenShape(ctx) {
    var x = need(ctx, 0);
    var axis = normAxis(intAttr(ctx, 'axis', 1), x.length);
    return [numel(x.slice(0, axis)), numel(x.slice(axis))];
}
function axesOf(ctx) {
    var attr = intsAttr(ctx, 'axes');
    if (attr)
        return attr;
    if (ctx.inputs[1])
        return needValue(ctx, 1, 'axes');
    return undefined;
}
function squeezeShape(ctx) {
    var x = need(ctx, 0);
    var axes = axesOf(ctx);
    if (!axes)
        return x.filter(function (d) { return d !== 1; });
    var set = new Set(axes.map(function (a) { return normAxis(a, x.length); }));
    return x.filter(function (_, i) { return !set.has(i); });
}
function unsqueezeShape(ctx) {
    var x = need(ctx, 0);
    var axes = axesOf(ctx);
    if (!axes)
        throw new ShapeError('Unsqueeze: no axes');
    var rank = x.length + axes.length;
    var set = new Set(axes.map(function (a) { return normAxis(a, rank); }));
    var out = [];
    var j = 0;
    for (var i = 0; i < rank; i++)
        out.push(set.has(i) ? 1 : x[j++]);
    return out;
}
var passValue = function (ctx) { var _a; return (_a = ctx.inputs[0]) === null || _a === void 0 ? void 0 : _a.value; };
function transpose(ctx) {
    var _a;
    var x = need(ctx, 0);
    var perm = (_a = intsAttr(ctx, 'perm')) !== null && _a !== void 0 ? _a : x.map(function (_, i) { return x.length - 1 - i; });
    return { outputs: [like(ctx.inputs[0], perm.map(function (p) { return x[p]; }))], flops: 0, category: 'memory' };
}
function concat(ctx) {
    var shapes = ctx.inputs.map(function (_, i) { return need(ctx, i); });
    var axis = normAxis(intAttr(ctx, 'axis', 0), shapes[0].length);
    var out = __spreadArray([], shapes[0], true);
    out[axis] = shapes.reduce(function (s, x) { return s + x[axis]; }, 0);
    var values = ctx.inputs.map(function (t) { return t === null || t === void 0 ? void 0 : t.value; });
    var value = shapes[0].length === 1 && values.every(function (v) { return v; }) ? values.flat() : undefined;
    return { outputs: [like(ctx.inputs[0], out, value)], flops: 0, category: 'memory' };
}
function pad(ctx) {
    var _a;
    var x = need(ctx, 0);
    var pads = (_a = intsAttr(ctx, 'pads')) !== null && _a !== void 0 ? _a : needValue(ctx, 1, 'pads');
    var axes = x.map(function (_, i) { return i; });
    if (ctx.inputs[3])
        axes = needValue(ctx, 3, 'axes').map(function (a) { return normAxis(a, x.length); });
    var out = __spreadArray([], x, true);
    axes.forEach(function (a, i) { return (out[a] += pads[i] + pads[i + axes.length]); });
    return { outputs: [like(ctx.inputs[0], out)], flops: 0, category: 'memory' };
}
function shapeOp(ctx) {
    var x = need(ctx, 0);
    var rank = x.length;
    var start = normAxis(intAttr(ctx, 'start', 0), rank);
    var endAttr = ctx.attrs.get('end');
    var end = typeof endAttr === 'number' ? normAxis(endAttr, rank) : rank;
    var value = x.slice(Math.max(0, start), Math.min(rank, end));
    return { outputs: [{ shape: [value.length], value: value, elemBytes: 8 }], flops: 0, category: 'free' };
}
function sizeOp(ctx) {
    var x = need(ctx, 0);
    return { outputs: [{ shape: [], value: [numel(x)], elemBytes: 8 }], flops: 0, category: 'free' };
}
function gather(ctx) {
    var data = need(ctx, 0);
    var indices = need(ctx, 1);
    var axis = normAxis(intAttr(ctx, 'axis', 0), data.length);
    var out = __spreadArray(__spreadArray(__spreadArray([], data.slice(0, axis), true), indices, true), data.slice(axis + 1), true);
    var value;
    var dv = ctx.inputs[0].value;
    var iv = ctx.inputs[1].value;
    if (dv && iv && data.length === 1)
        value = iv.map(function (i) { return dv[i < 0 ? i + dv.length : i]; });
    return { outputs: [like(ctx.inputs[0], out, value)], flops: 0, category: 'memory' };
}
function cast(ctx) {
    var x = need(ctx, 0);
    var to = intAttr(ctx, 'to', onnx_format_1.DataType.FLOAT);
    return { outputs: [{ shape: x, value: ctx.inputs[0].value, elemBytes: (0, onnx_format_1.elementSize)(to) }], flops: 0, category: 'memory' };
}
function constant(ctx) {
    var t = ctx.attrs.get('value');
    if (t && typeof t === 'object' && !Array.isArray(t)) {
        var tensor = t;
        return {
            outputs: [{ shape: (0, onnx_format_1.tensorDims)(tensor), value: (0, onnx_format_1.tensorValues)(tensor), elemBytes: (0, onnx_format_1.elementSize)(tensor.dataType) }],
            flops: 0,
            category: 'free',
        };
    }
    for (var _i = 0, _a = [['value_float', 4], ['value_int', 8]]; _i < _a.length; _i++) {
        var _b = _a[_i], name_1 = _b[0], elemBytes = _b[1];
        var v = ctx.attrs.get(name_1);
        if (typeof v === 'number')
            return { outputs: [{ shape: [], value: [v], elemBytes: elemBytes }], flops: 0, category: 'free' };
    }
    for (var _c = 0, _d = [['value_floats', 4], ['value_ints', 8]]; _c < _d.length; _c++) {
        var _e = _d[_c], name_2 = _e[0], elemBytes = _e[1];
        var v = ctx.attrs.get(name_2);
        if (Array.isArray(v))
            return { outputs: [{ shape: [v.length], value: v, elemBytes: elemBytes }], flops: 0, category: 'free' };
    }
    throw new ShapeError('Constant: unsupported value attribute');
}
function constantOfShape(ctx) {
    var shape = needValue(ctx, 0, 'shape');
    return { outputs: [{ shape: shape, elemBytes: 4 }], flops: 0, category: 'memory' };
}
function slice(ctx) {
    var _a, _b;
    var x = need(ctx, 0);
    var starts;
    var ends;
    var axes;
    var steps;
    if (ctx.inputs.length > 1) {
        starts = needValue(ctx, 1, 'starts');
        ends = needValue(ctx, 2, 'ends');
        axes = ctx.inputs[3] ? needValue(ctx, 3, 'axes') : undefined;
        steps = ctx.inputs[4] ? needValue(ctx, 4, 'steps') : undefined;
    }
    else {
        starts = (_a = intsAttr(ctx, 'starts')) !== null && _a !== void 0 ? _a : [];
        ends = (_b = intsAttr(ctx, 'ends')) !== null && _b !== void 0 ? _b : [];
        axes = intsAttr(ctx, 'axes');
    }
    var ax = (axes !== null && axes !== void 0 ? axes : starts.map(function (_, i) { return i; })).map(function (a) { return normAxis(a, x.length); });
    var out = __spreadArray([], x, true);
    var ranges = [];
    ax.forEach(function (a, i) {
        var _a;
        var d = x[a];
        var step = (_a = steps === null || steps === void 0 ? void 0 : steps[i]) !== null && _a !== void 0 ? _a : 1;
        var clampIdx = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v < 0 ? v + d : v)); };
        var s = step > 0 ? clampIdx(starts[i], 0, d) : clampIdx(starts[i], -1, d - 1);
        var e = step > 0 ? clampIdx(ends[i], 0, d) : clampIdx(ends[i], -1, d - 1);
        out[a] = Math.max(0, Math.ceil((e - s) / step));
        ranges.push([s, e, step]);
    });
    var value;
    var v = ctx.inputs[0].value;
    if (v && x.length === 1 && ranges.length === 1) {
        var _c = ranges[0], s = _c[0], e = _c[1], step = _c[2];
        value = [];
        for (var i = s; step > 0 ? i < e : i > e; i += step)
            value.push(v[i]);
    }
    return { outputs: [like(ctx.inputs[0], out, value)], flops: 0, category: 'memory' };
}
function split(ctx) {
    var _a, _b, _c, _d;
    var x = need(ctx, 0);
    var axis = normAxis(intAttr(ctx, 'axis', 0), x.length);
    var count = (_b = (_a = ctx.node.output) === null || _a === void 0 ? void 0 : _a.length) !== null && _b !== void 0 ? _b : 1;
    var sizes = (_d = (_c = intsAttr(ctx, 'split')) !== null && _c !== void 0 ? _c : (ctx.inputs[1] ? needValue(ctx, 1, 'split') : undefined)) !== null && _d !== void 0 ? _d : Array.from({ length: count }, function (_, i) { return Math.ceil(x[axis] / count) - (i === count - 1 ? Math.ceil(x[axis] / count) * count - x[axis] : 0); });
    var outputs = sizes.map(function (s) {
        var shape = __spreadArray([], x, true);
        shape[axis] = s;
        return like(ctx.inputs[0], shape);
    });
    return { outputs: outputs, flops: 0, category: 'memory' };
}
function expand(ctx) {
    var out = broadcastShapes(need(ctx, 0), needValue(ctx, 1, 'shape'));
    return { outputs: [like(ctx.inputs[0], out)], flops: 0, category: 'memory' };
}
function tile(ctx) {
    var x = need(ctx, 0);
    var repeats = needValue(ctx, 1, 'repeats');
    return { outputs: [like(ctx.inputs[0], x.map(function (d, i) { return d * repeats[i]; }))], flops: 0, category: 'memory' };
}
function dropout(ctx) {
    var _a, _b;
    var x = need(ctx, 0);
    var outputs = [like(ctx.inputs[0], x)];
    if (((_b = (_a = ctx.node.output) === null || _a === void 0 ? void 0 : _a.length) !== null && _b !== void 0 ? _b : 0) > 1)
        outputs.push({ shape: x, elemBytes: 1 });
    return { outputs: outputs, flops: 0, category: 'free' };
}
exports.OP_RULES = {
    Conv: conv,
    ConvTranspose: convTranspose,
    MaxPool: pool,
    AveragePool: pool,
    LpPool: pool,
    GlobalAveragePool: globalPool,
    GlobalMaxPool: globalPool,
    GlobalLpPool: globalPool,
    Gemm: gemm,
    MatMul: matmul,
    BatchNormalization: batchNorm,
    InstanceNormalization: normalization(5),
    LayerNormalization: normalization(5),
    LRN: lrn,
    Softmax: softmax,
    LogSoftmax: softmax,
    Hardmax: function (ctx) { return (__assign(__assign({}, softmax(ctx)), { flops: 2 * numel(need(ctx, 0)) })); },
    Where: where,
    Resize: resize,
    Upsample: resize,
    Reshape: free(reshapeShape, passValue),
    Flatten: free(flattenShape, passValue),
    Squeeze: free(squeezeShape, passValue),
    Unsqueeze: free(unsqueezeShape, passValue),
    Identity: free(function (ctx) { return need(ctx, 0); }, passValue),
    Dropout: dropout,
    Transpose: transpose,
    Concat: concat,
    Pad: pad,
    Shape: shapeOp,
    Size: sizeOp,
    Gather: gather,
    Cast: cast,
    Constant: constant,
    ConstantOfShape: constantOfShape,
    Slice: slice,
    Split: split,
    Expand: expand,
    Tile: tile,
    ReduceMean: reduce,
    ReduceSum: reduce,
    ReduceMax: reduce,
    ReduceMin: reduce,
    ReduceProd: reduce,
    ReduceL1: reduce,
    ReduceL2: reduce,
    ReduceSumSquare: reduce,
    ReduceLogSumExp: reduce,
    ArgMax: reduce,
    ArgMin: reduce,
};
for (var _i = 0, _a = Object.keys(exports.UNARY_FLOPS); _i < _a.length; _i++) {
    var op = _a[_i];
    exports.OP_RULES[op] = unary;
}
for (var _b = 0, BINARY_OPS_1 = BINARY_OPS; _b < BINARY_OPS_1.length; _b++) {
    var op = BINARY_OPS_1[_b];
    exports.OP_RULES[op] = elementwise;
}
