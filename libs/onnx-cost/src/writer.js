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
exports.OnnxWriter = void 0;
exports.seededRandom = seededRandom;
var onnx_format_1 = require("./onnx-format");
var op_rules_1 = require("./op-rules");
/** Deterministic 32-bit PRNG (mulberry32): uniform numbers in [0, 1). */
function seededRandom(seed) {
    var a = seed >>> 0;
    return function () {
        a = (a + 0x6d2b79f5) >>> 0;
        var t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
function toAttribute(name, v) {
    if (typeof v === 'string')
        return { name: name, type: onnx_format_1.AttributeType.STRING, s: Buffer.from(v, 'utf8') };
    if (typeof v === 'number') {
        if (!Number.isInteger(v))
            throw new Error("attribute ".concat(name, ": wrap the float ").concat(v, " as {float: ").concat(v, "}"));
        return { name: name, type: onnx_format_1.AttributeType.INT, i: v };
    }
    if (Array.isArray(v))
        return { name: name, type: onnx_format_1.AttributeType.INTS, ints: v };
    if ('float' in v)
        return { name: name, type: onnx_format_1.AttributeType.FLOAT, f: v.float };
    return { name: name, type: onnx_format_1.AttributeType.FLOATS, floats: v.floats };
}
var OnnxWriter = /** @class */ (function () {
    function OnnxWriter(options) {
        if (options === void 0) { options = {}; }
        var _a, _b;
        this.options = options;
        this.nodes = [];
        this.initializers = [];
        this.inputs = [];
        this.outputs = [];
        this.tensors = new Map();
        this.dynamicBatch = false;
        this.counter = 0;
        this.random = seededRandom((_a = options.seed) !== null && _a !== void 0 ? _a : 1);
        this.opset = (_b = options.opset) !== null && _b !== void 0 ? _b : 13;
    }
    OnnxWriter.prototype.fresh = function (prefix) {
        this.counter += 1;
        return "".concat(prefix, "_").concat(this.counter);
    };
    /** Shape inferred for a tensor (dynamic batch as 1). */
    OnnxWriter.prototype.shape = function (name) {
        var _a;
        var s = (_a = this.tensors.get(name)) === null || _a === void 0 ? void 0 : _a.shape;
        if (!s)
            throw new Error("no tensor '".concat(name, "'"));
        return s;
    };
    /** A FP32 graph input; -1 in the first dimension makes the batch dynamic ('N'). */
    OnnxWriter.prototype.input = function (name, shape) {
        var dynamic = shape[0] === -1;
        this.dynamicBatch || (this.dynamicBatch = dynamic);
        this.inputs.push({
            name: name,
            type: {
                tensorType: {
                    elemType: onnx_format_1.DataType.FLOAT,
                    shape: { dim: shape.map(function (d, i) { return (i === 0 && dynamic ? { dimParam: 'N' } : { dimValue: d }); }) },
                },
            },
        });
        this.tensors.set(name, { shape: shape.map(function (d) { return (d === -1 ? 1 : d); }), elemBytes: 4 });
        return name;
    };
    /** An FP32 initializer with the given values. */
    OnnxWriter.prototype.initializer = function (name, dims, values) {
        var data = values instanceof Float32Array ? values : Float32Array.from(values);
        this.initializers.push({
            name: name,
            dims: dims,
            dataType: onnx_format_1.DataType.FLOAT,
            rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
        });
        this.tensors.set(name, { shape: dims, elemBytes: 4, initializer: true, value: data.length <= 64 ? __spreadArray([], data, true) : undefined });
        return name;
    };
    /** An INT64 initializer (shapes, axes, pads). */
    OnnxWriter.prototype.int64Initializer = function (name, dims, values) {
        var raw = new Uint8Array(values.length * 8);
        var view = new DataView(raw.buffer);
        values.forEach(function (v, i) { return view.setBigInt64(i * 8, BigInt(v), true); });
        this.initializers.push({ name: name, dims: dims, dataType: onnx_format_1.DataType.INT64, rawData: raw });
        this.tensors.set(name, { shape: dims, elemBytes: 8, initializer: true, value: values });
        return name;
    };
    /** Random FP32 weights, uniform with variance 1/fanIn (keeps activations bounded through layers). */
    OnnxWriter.prototype.randomWeights = function (name, dims, fanIn) {
        var n = dims.reduce(function (a, b) { return a * b; }, 1);
        var a = Math.sqrt(3 / Math.max(1, fanIn));
        var data = new Float32Array(n);
        for (var i = 0; i < n; i++)
            data[i] = (this.random() * 2 - 1) * a;
        return this.initializer(name, dims, data);
    };
    /** Add any node; its output shapes are inferred (an unknown op or bad shapes throws). */
    OnnxWriter.prototype.node = function (opType, inputs, attrs, outputCount) {
        var _this = this;
        if (attrs === void 0) { attrs = {}; }
        if (outputCount === void 0) { outputCount = 1; }
        var name = this.fresh(opType.toLowerCase());
        var outputs = Array.from({ length: outputCount }, function (_, i) { return (outputCount === 1 ? name : "".concat(name, "_").concat(i)); });
        var node = {
            name: name,
            opType: opType,
            input: inputs,
            output: outputs,
            attribute: Object.entries(attrs).map(function (_a) {
                var k = _a[0], v = _a[1];
                return toAttribute(k, v);
            }),
        };
        var rule = op_rules_1.OP_RULES[opType];
        if (!rule)
            throw new Error("the writer has no shape rule for '".concat(opType, "'"));
        var attrMap = new Map(Object.entries(attrs).map(function (_a) {
            var k = _a[0], v = _a[1];
            return [k, typeof v === 'object' && !Array.isArray(v) ? ('float' in v ? v.float : v.floats) : v];
        }));
        var result;
        try {
            result = rule({ node: node, attrs: attrMap, inputs: inputs.map(function (n) { return (n ? _this.tensors.get(n) : undefined); }), opset: this.opset });
        }
        catch (err) {
            if (err instanceof op_rules_1.ShapeError)
                throw new Error("cannot add ".concat(opType, ": ").concat(err.message));
            throw err;
        }
        outputs.forEach(function (o, i) { return _this.tensors.set(o, result.outputs[i]); });
        this.nodes.push(node);
        return outputs;
    };
    OnnxWriter.prototype.conv = function (x, spec) {
        var _a = this.shape(x), cin = _a[1];
        var outChannels = spec.outChannels, kernel = spec.kernel, _b = spec.stride, stride = _b === void 0 ? 1 : _b, _c = spec.pad, pad = _c === void 0 ? 'same' : _c, _d = spec.dilation, dilation = _d === void 0 ? 1 : _d, _e = spec.group, group = _e === void 0 ? 1 : _e, _f = spec.bias, bias = _f === void 0 ? true : _f;
        if (cin % group !== 0 || outChannels % group !== 0)
            throw new Error("conv: group ".concat(group, " must divide ").concat(cin, " and ").concat(outChannels));
        var fanIn = (cin / group) * kernel * kernel;
        var w = this.randomWeights(this.fresh('conv.weight'), [outChannels, cin / group, kernel, kernel], fanIn);
        var inputs = [x, w];
        if (bias)
            inputs.push(this.randomWeights(this.fresh('conv.bias'), [outChannels], fanIn));
        var attrs = {
            kernel_shape: [kernel, kernel],
            strides: [stride, stride],
            dilations: [dilation, dilation],
            group: group,
        };
        if (pad === 'same')
            attrs.auto_pad = 'SAME_UPPER';
        else if (pad === 'valid')
            attrs.auto_pad = 'VALID';
        else
            attrs.pads = [pad, pad, pad, pad];
        return this.node('Conv', inputs, attrs)[0];
    };
    OnnxWriter.prototype.relu = function (x) {
        return this.node('Relu', [x])[0];
    };
    OnnxWriter.prototype.pool = function (op, x, spec) {
        var kernel = spec.kernel, _a = spec.stride, stride = _a === void 0 ? kernel : _a, _b = spec.pad, pad = _b === void 0 ? 0 : _b;
        return this.node(op, [x], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] })[0];
    };
    OnnxWriter.prototype.maxPool = function (x, spec) {
        return this.pool('MaxPool', x, spec);
    };
    OnnxWriter.prototype.averagePool = function (x, spec) {
        return this.pool('AveragePool', x, spec);
    };
    OnnxWriter.prototype.globalAveragePool = function (x) {
        return this.node('GlobalAveragePool', [x])[0];
    };
    OnnxWriter.prototype.flatten = function (x, axis) {
        if (axis === void 0) { axis = 1; }
        return this.node('Flatten', [x], { axis: axis })[0];
    };
    /** Fully connected: Gemm with weights [out, in] (transB), as PyTorch exports nn.Linear. */
    OnnxWriter.prototype.gemm = function (x, outFeatures, bias) {
        if (bias === void 0) { bias = true; }
        var _a = this.shape(x), fin = _a[1];
        var w = this.randomWeights(this.fresh('fc.weight'), [outFeatures, fin], fin);
        var inputs = [x, w];
        if (bias)
            inputs.push(this.randomWeights(this.fresh('fc.bias'), [outFeatures], fin));
        return this.node('Gemm', inputs, { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 })[0];
    };
    /** MatMul of x [..., K] by random weights [K, outFeatures]. */
    OnnxWriter.prototype.matmul = function (x, outFeatures) {
        var s = this.shape(x);
        var k = s[s.length - 1];
        var w = this.randomWeights(this.fresh('mm.weight'), [k, outFeatures], k);
        return this.node('MatMul', [x, w])[0];
    };
    OnnxWriter.prototype.add = function (a, b) {
        return this.node('Add', [a, b])[0];
    };
    OnnxWriter.prototype.softmax = function (x, axis) {
        if (axis === void 0) { axis = -1; }
        return this.node('Softmax', [x], { axis: axis })[0];
    };
    /** Mark a tensor as a graph output. */
    OnnxWriter.prototype.output = function (name) {
        this.outputs.push(name);
        return this;
    };
    OnnxWriter.prototype.toModel = function () {
        var _this = this;
        var _a, _b;
        if (this.outputs.length === 0)
            throw new Error('the graph has no output');
        var output = this.outputs.map(function (name) {
            var t = _this.tensors.get(name);
            return {
                name: name,
                type: {
                    tensorType: {
                        elemType: onnx_format_1.DataType.FLOAT,
                        shape: { dim: t.shape.map(function (d, i) { return (i === 0 && _this.dynamicBatch ? { dimParam: 'N' } : { dimValue: d }); }) },
                    },
                },
            };
        });
        return {
            irVersion: (_a = this.options.irVersion) !== null && _a !== void 0 ? _a : 8,
            producerName: 'outlet-onnx-writer',
            producerVersion: '1',
            opsetImport: [{ domain: '', version: this.opset }],
            graph: {
                name: (_b = this.options.graphName) !== null && _b !== void 0 ? _b : 'graph',
                node: this.nodes,
                initializer: this.initializers,
                input: this.inputs,
                output: output,
            },
        };
    };
    /** The encoded ModelProto (what an .onnx file holds). */
    OnnxWriter.prototype.encode = function () {
        return onnx_format_1.onnx.ModelProto.encode(onnx_format_1.onnx.ModelProto.create(this.toModel())).finish();
    };
    return OnnxWriter;
}());
exports.OnnxWriter = OnnxWriter;
