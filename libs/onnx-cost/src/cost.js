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
exports.defaultOpset = defaultOpset;
exports.analyzeModel = analyzeModel;
exports.isFullyCosted = isFullyCosted;
var onnx_format_1 = require("./onnx-format");
var op_rules_1 = require("./op-rules");
function declaredShape(vi, batch) {
    var _a, _b, _c;
    var dims = (_c = (_b = (_a = vi.type) === null || _a === void 0 ? void 0 : _a.tensorType) === null || _b === void 0 ? void 0 : _b.shape) === null || _c === void 0 ? void 0 : _c.dim;
    if (!dims)
        return undefined;
    return dims.map(function (d) {
        var v = d.dimValue !== undefined && d.dimValue !== null ? (0, onnx_format_1.toNumber)(d.dimValue) : 0;
        return v > 0 ? v : batch;
    });
}
function fullyDeclared(vi) {
    var _a, _b, _c;
    var dims = (_c = (_b = (_a = vi.type) === null || _a === void 0 ? void 0 : _a.tensorType) === null || _b === void 0 ? void 0 : _b.shape) === null || _c === void 0 ? void 0 : _c.dim;
    if (!dims)
        return undefined;
    var out = dims.map(function (d) { return (d.dimValue !== undefined && d.dimValue !== null ? (0, onnx_format_1.toNumber)(d.dimValue) : 0); });
    return out.every(function (d) { return d > 0; }) ? out : undefined;
}
function emptyTotals() {
    return Object.fromEntries(op_rules_1.OP_CATEGORIES.map(function (c) { return [c, { flops: 0, bytes: 0, count: 0 }]; }));
}
/** Default opset version of a model (the '' / 'ai.onnx' domain). */
function defaultOpset(model) {
    var _a;
    var entry = ((_a = model.opsetImport) !== null && _a !== void 0 ? _a : []).find(function (o) { return !o.domain || o.domain === 'ai.onnx'; });
    return entry ? (0, onnx_format_1.toNumber)(entry.version) : 13;
}
/**
 * Infer shapes through the graph from its input shapes (dynamic dimensions set to `batch`, 1 by
 * default) and initializer dims, and compute FLOPs and bytes per node and in total.
 */
function analyzeModel(source, options) {
    var _a, _b, _c, _d, _e, _f, _g, _h, _j, _k, _l, _m, _o, _p;
    if (options === void 0) { options = {}; }
    var model = typeof source === 'string' || source instanceof Uint8Array ? (0, onnx_format_1.readOnnxModel)(source) : source;
    var graph = model.graph;
    if (!graph)
        throw new Error('the ONNX model has no graph');
    var batch = (_a = options.batch) !== null && _a !== void 0 ? _a : 1;
    var opset = defaultOpset(model);
    var tensors = new Map();
    var params = 0;
    for (var _i = 0, _q = (_b = graph.initializer) !== null && _b !== void 0 ? _b : []; _i < _q.length; _i++) {
        var init = _q[_i];
        params += (0, op_rules_1.numel)((0, onnx_format_1.tensorDims)(init));
        tensors.set((_c = init.name) !== null && _c !== void 0 ? _c : '', {
            shape: (0, onnx_format_1.tensorDims)(init),
            value: (0, onnx_format_1.tensorValues)(init),
            elemBytes: (0, onnx_format_1.elementSize)(init.dataType),
            initializer: true,
        });
    }
    var inputs = [];
    for (var _r = 0, _s = (_d = graph.input) !== null && _d !== void 0 ? _d : []; _r < _s.length; _r++) {
        var vi = _s[_r];
        var name_1 = (_e = vi.name) !== null && _e !== void 0 ? _e : '';
        if (tensors.has(name_1))
            continue; // an initializer also listed as input (older IR)
        var shape = (_g = (_f = options.inputShapes) === null || _f === void 0 ? void 0 : _f[name_1]) !== null && _g !== void 0 ? _g : declaredShape(vi, batch);
        if (!shape)
            throw new Error("graph input '".concat(name_1, "' has no declared shape; pass inputShapes"));
        tensors.set(name_1, { shape: shape, elemBytes: (0, onnx_format_1.elementSize)((_j = (_h = vi.type) === null || _h === void 0 ? void 0 : _h.tensorType) === null || _j === void 0 ? void 0 : _j.elemType) });
        inputs.push({ name: name_1, shape: shape });
    }
    // Declared shapes of intermediate values and outputs: a fallback where inference cannot go.
    var declared = new Map();
    for (var _t = 0, _u = __spreadArray(__spreadArray([], ((_k = graph.valueInfo) !== null && _k !== void 0 ? _k : []), true), ((_l = graph.output) !== null && _l !== void 0 ? _l : []), true); _t < _u.length; _t++) {
        var vi = _u[_t];
        declared.set((_m = vi.name) !== null && _m !== void 0 ? _m : '', vi);
    }
    var nodes = [];
    var byCategory = emptyTotals();
    var byOpType = {};
    var unknownOps = new Set();
    var unresolved = [];
    var flops = 0;
    var bytes = 0;
    var opCount = 0;
    ((_o = graph.node) !== null && _o !== void 0 ? _o : []).forEach(function (node, index) {
        var _a, _b, _c, _d, _e, _f, _g, _h;
        var opType = (_a = node.opType) !== null && _a !== void 0 ? _a : '';
        var name = node.name || "".concat(opType, "_").concat(index);
        var domain = (_b = node.domain) !== null && _b !== void 0 ? _b : '';
        var inputsInfo = ((_c = node.input) !== null && _c !== void 0 ? _c : []).map(function (n) { var _a; return (n ? (_a = tensors.get(n)) !== null && _a !== void 0 ? _a : { elemBytes: 4 } : undefined); });
        var attrs = (0, onnx_format_1.nodeAttributes)(node);
        var rule = domain === '' || domain === 'ai.onnx' ? op_rules_1.OP_RULES[opType] : undefined;
        var result;
        var problem;
        if (!rule) {
            unknownOps.add(domain ? "".concat(domain, ".").concat(opType) : opType);
            problem = "no cost rule for op type '".concat(domain ? "".concat(domain, ".") : '').concat(opType, "'");
        }
        else {
            try {
                result = rule({ node: node, attrs: attrs, inputs: inputsInfo, opset: opset });
            }
            catch (err) {
                if (!(err instanceof op_rules_1.ShapeError))
                    throw err;
                problem = err.message;
            }
        }
        var outputNames = (_d = node.output) !== null && _d !== void 0 ? _d : [];
        var outputs = outputNames.map(function (n, i) {
            var _a, _b;
            var inferred = result === null || result === void 0 ? void 0 : result.outputs[i];
            if (inferred)
                return inferred;
            var vi = declared.get(n);
            var shape = vi ? fullyDeclared(vi) : undefined;
            return shape ? { shape: shape, elemBytes: (0, onnx_format_1.elementSize)((_b = (_a = vi === null || vi === void 0 ? void 0 : vi.type) === null || _a === void 0 ? void 0 : _a.tensorType) === null || _b === void 0 ? void 0 : _b.elemType) } : undefined;
        });
        outputNames.forEach(function (n, i) {
            if (n && outputs[i])
                tensors.set(n, outputs[i]);
        });
        var known = result !== undefined;
        var category = (_e = result === null || result === void 0 ? void 0 : result.category) !== null && _e !== void 0 ? _e : 'unknown';
        var nodeFlops = (_f = result === null || result === void 0 ? void 0 : result.flops) !== null && _f !== void 0 ? _f : 0;
        var nodeBytes = !result
            ? 0
            : (_g = result.bytes) !== null && _g !== void 0 ? _g : (category === 'free' ? 0 : inputsInfo.reduce(function (s, t) { return s + (0, op_rules_1.tensorBytes)(t); }, 0) + outputs.reduce(function (s, t) { return s + (0, op_rules_1.tensorBytes)(t); }, 0));
        var nodeParams = inputsInfo.reduce(function (s, t) { return s + ((t === null || t === void 0 ? void 0 : t.initializer) && t.shape ? (0, op_rules_1.numel)(t.shape) : 0); }, 0);
        if (!known)
            unresolved.push({ node: name, opType: opType, problem: problem !== null && problem !== void 0 ? problem : 'unknown' });
        nodes.push({
            name: name,
            opType: opType,
            category: category,
            flops: nodeFlops,
            bytes: nodeBytes,
            params: nodeParams,
            inputShapes: inputsInfo.map(function (t) { return t === null || t === void 0 ? void 0 : t.shape; }),
            outputShapes: outputs.map(function (t) { return t === null || t === void 0 ? void 0 : t.shape; }),
            known: known,
            problem: problem,
        });
        flops += nodeFlops;
        bytes += nodeBytes;
        if (opType !== 'Constant')
            opCount += 1;
        if (result) {
            var c = byCategory[result.category];
            c.flops += nodeFlops;
            c.bytes += nodeBytes;
            c.count += 1;
        }
        var t = ((_h = byOpType[opType]) !== null && _h !== void 0 ? _h : (byOpType[opType] = { flops: 0, bytes: 0, count: 0 }));
        t.flops += nodeFlops;
        t.bytes += nodeBytes;
        t.count += 1;
    });
    var outputs = ((_p = graph.output) !== null && _p !== void 0 ? _p : []).map(function (vi) { var _a, _b, _c; return ({ name: (_a = vi.name) !== null && _a !== void 0 ? _a : '', shape: (_c = tensors.get((_b = vi.name) !== null && _b !== void 0 ? _b : '')) === null || _c === void 0 ? void 0 : _c.shape }); });
    return { inputs: inputs, outputs: outputs, nodes: nodes, flops: flops, bytes: bytes, params: params, opCount: opCount, byCategory: byCategory, byOpType: byOpType, unknownOps: __spreadArray([], unknownOps, true).sort(), unresolved: unresolved };
}
/** Whether every node's cost is known (no unknown op types and no unresolved shapes). */
function isFullyCosted(cost) {
    return cost.unresolved.length === 0;
}
